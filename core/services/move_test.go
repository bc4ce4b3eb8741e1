package services

import (
	"fmt"
	"testing"

	"github.com/pacsforge/pacs/core/dicom/uid"
	"github.com/pacsforge/pacs/core/index"
	"github.com/pacsforge/pacs/core/ul"
)

func TestMoveContexts(t *testing.T) {
	loc := func(class, ts string) index.Location {
		return index.Location{SOPClassUID: class, TransferSyntaxUID: ts}
	}
	tests := []struct {
		name string
		locs []index.Location
		want string
	}{
		{
			name: "explicit only",
			locs: []index.Location{loc(uid.CTImageStorage, uid.ExplicitVRLittleEndian), loc(uid.CTImageStorage, uid.ExplicitVRLittleEndian)},
			want: "[CT:[EVRLE] CT:[EVRLE IVRLE]]",
		},
		{
			name: "both little endian",
			locs: []index.Location{loc(uid.MRImageStorage, uid.ImplicitVRLittleEndian), loc(uid.MRImageStorage, uid.ExplicitVRLittleEndian)},
			want: "[MR:[IVRLE] MR:[EVRLE]]",
		},
		{
			name: "compressed after native",
			locs: []index.Location{loc(uid.CTImageStorage, uid.JPEGBaseline8Bit), loc(uid.MRImageStorage, uid.ExplicitVRBigEndian), loc(uid.CTImageStorage, uid.ExplicitVRLittleEndian)},
			want: "[CT:[EVRLE] CT:[EVRLE IVRLE] MR:[EVRBE] MR:[EVRLE IVRLE] CT:[JPEG]]",
		},
		{
			name: "compressed only, unknown syntax dropped",
			locs: []index.Location{loc(uid.CTImageStorage, uid.JPEGBaseline8Bit), loc(uid.CTImageStorage, "1.2.3")},
			want: "[CT:[JPEG]]",
		},
	}
	short := map[string]string{uid.CTImageStorage: "CT", uid.MRImageStorage: "MR", uid.ExplicitVRLittleEndian: "EVRLE",
		uid.ImplicitVRLittleEndian: "IVRLE", uid.ExplicitVRBigEndian: "EVRBE", uid.JPEGBaseline8Bit: "JPEG"}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, pc := range moveContexts(tc.locs) {
				var ts []string
				for _, s := range pc.TransferSyntaxes {
					ts = append(ts, short[s])
				}
				got = append(got, fmt.Sprintf("%s:%v", short[pc.AbstractSyntax], ts))
			}
			if fmt.Sprint(got) != tc.want {
				t.Errorf("moveContexts() = %v, want %s", got, tc.want)
			}
		})
	}
	var many []index.Location
	for i := range 200 {
		many = append(many, loc(fmt.Sprintf("1.2.3.%d", i), uid.ImplicitVRLittleEndian))
	}
	if n := len(moveContexts(many)); n != maxMoveContexts {
		t.Errorf("moveContexts(200 classes) gives %d contexts, want %d", n, maxMoveContexts)
	}
}

func TestStorageSCPRoles(t *testing.T) {
	var policy ul.Policy
	policy.Roles = func(as string, scu, scp bool) (bool, bool) { return scu, false } // refuses every SCP role
	policy.Syntaxes = map[string][]string{}
	roles := storageSCPRoles(policy.Roles)
	if scu, scp := roles(uid.CTImageStorage, true, true); !scu || !scp {
		t.Errorf("roles(CT, scu, scp) = %v, %v; want the SCP role of a storage class accepted", scu, scp)
	}
	if _, scp := roles(uid.StudyRootQueryRetrieveInformationModelGet, true, true); scp {
		t.Error("roles(GET model) accepted the SCP role the previous hook refused")
	}
	if scu, scp := storageSCPRoles(nil)(uid.ModalityWorklistInformationModelFind, true, false); !scu || scp {
		t.Errorf("roles without a previous hook = %v, %v; want as proposed", scu, scp)
	}
}
