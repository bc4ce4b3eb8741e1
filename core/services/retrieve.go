package services

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/pacsforge/pacs/core/dicom"
	"github.com/pacsforge/pacs/core/dicom/uid"
	"github.com/pacsforge/pacs/core/dimse"
	"github.com/pacsforge/pacs/core/index"
	"github.com/pacsforge/pacs/core/ul"
)

// RetrieveSyntaxes are the transfer syntaxes accepted for the C-MOVE and
// C-GET SOP classes, most preferred first.
var RetrieveSyntaxes = []string{uid.ExplicitVRLittleEndian, uid.ImplicitVRLittleEndian}

// MaxSubOperations is the most instances one C-MOVE or C-GET sends: the
// sub-operation counters of the responses are 16-bit (PS3.7 §9.3.3.2). A
// request matching more is refused with A701 before anything is sent.
const MaxSubOperations = 65535

// retrieveModels are the Query/Retrieve SOP classes served, with their
// information model.
var retrieveModels = []struct {
	move, get string
	root      index.Root
}{
	{uid.PatientRootQueryRetrieveInformationModelMove, uid.PatientRootQueryRetrieveInformationModelGet, index.PatientRoot},
	{uid.StudyRootQueryRetrieveInformationModelMove, uid.StudyRootQueryRetrieveInformationModelGet, index.StudyRoot},
}

// registerRetrieve installs the C-MOVE and C-GET service class providers of
// the Patient Root and Study Root models (PS3.4 C.4.2, C.4.3). C-GET needs
// the requestor to act as Storage SCP on its association: the policy's
// Roles hook accepts the SCP role it proposes for Storage SOP classes, and
// when no Storage SCP is registered (no Archive) the Storage SOP classes
// are accepted in DefaultStoreSyntaxes for the sub-operations.
func registerRetrieve(mux *dimse.Mux, policy *ul.Policy, o Options) {
	if o.Index == nil || o.Storage == nil {
		return
	}
	r := &retriever{o: o, log: o.Logger.Named("retrieve")}
	for _, m := range retrieveModels {
		policy.Syntaxes[m.move] = RetrieveSyntaxes
		policy.Syntaxes[m.get] = RetrieveSyntaxes
		mux.HandleCMove(m.move, r.moveHandler(m.root))
		mux.HandleCGet(m.get, r.getHandler(m.root))
	}
	if o.Archive == nil {
		syntaxes := DefaultStoreSyntaxes()
		for _, c := range uid.StorageSOPClasses() {
			if _, ok := policy.Syntaxes[c]; !ok {
				policy.Syntaxes[c] = syntaxes
			}
		}
	}
	policy.Roles = storageSCPRoles(policy.Roles)
}

// storageSCPRoles returns a Roles hook that accepts the SCP role a
// requestor proposes for a Storage SOP class (a C-GET requestor receives
// the sub-operations' C-STORE), and otherwise decides as next (nil: the
// roles as proposed).
func storageSCPRoles(next func(abstractSyntax string, scu, scp bool) (bool, bool)) func(string, bool, bool) (bool, bool) {
	return func(as string, scu, scp bool) (bool, bool) {
		scuOK, scpOK := scu, scp
		if next != nil {
			scuOK, scpOK = next(as, scu, scp)
		}
		if uid.IsStorage(as) {
			scpOK = scp
		}
		return scuOK, scpOK
	}
}

// retrieveRequest is what a C-MOVE or C-GET identifier asks for: the
// Query/Retrieve Level, the unique keys at that level (a list of UIDs
// allowed except for Patient ID), and the unique keys of the levels above
// when given, which the instances found must match.
type retrieveRequest struct {
	level  index.Level
	keys   []string
	study  string // Study Instance UID of a SERIES or IMAGE request, or ""
	series string // Series Instance UID of an IMAGE request, or ""
}

// errBadIdentifier is wrapped by every reason an identifier is refused;
// its text after the prefix is the Error Comment.
var errBadIdentifier = errors.New("identifier")

// parseRetrieve reads a C-MOVE or C-GET identifier of the model root
// (PS3.4 C.4.2.2.1, C.4.3.2.1). The errors wrap errBadIdentifier and name
// the problem without patient data.
func parseRetrieve(root index.Root, id *dicom.Dataset) (retrieveRequest, error) {
	var rq retrieveRequest
	lv := strings.TrimSpace(id.String(dicom.QueryRetrieveLevel))
	if lv == "" {
		return rq, fmt.Errorf("%w: Query/Retrieve Level missing", errBadIdentifier)
	}
	level, ok := index.ParseLevel(lv)
	if !ok || (root == index.StudyRoot && level == index.Patient) {
		return rq, fmt.Errorf("%w: Query/Retrieve Level not in the model", errBadIdentifier)
	}
	rq.level = level
	if level == index.Patient {
		ids := nonEmpty(id.Strings(dicom.PatientID))
		switch {
		case len(ids) == 0:
			return rq, fmt.Errorf("%w: Patient ID missing", errBadIdentifier)
		case len(ids) > 1:
			return rq, fmt.Errorf("%w: more than one Patient ID", errBadIdentifier)
		}
		rq.keys = ids
		return rq, nil
	}
	key := map[index.Level]dicom.Tag{index.Study: dicom.StudyInstanceUID, index.Series: dicom.SeriesInstanceUID, index.Image: dicom.SOPInstanceUID}[level]
	uids, err := uidList(id, key, true)
	if err != nil {
		return rq, err
	}
	rq.keys = uids
	if level >= index.Series {
		if rq.study, err = parentUID(id, dicom.StudyInstanceUID); err != nil {
			return rq, err
		}
	}
	if level == index.Image {
		if rq.series, err = parentUID(id, dicom.SeriesInstanceUID); err != nil {
			return rq, err
		}
	}
	return rq, nil
}

// uidList returns the UIDs of key t, each checked with uid.Valid.
func uidList(id *dicom.Dataset, t dicom.Tag, required bool) ([]string, error) {
	name := tagName(t)
	uids := nonEmpty(id.Strings(t))
	switch {
	case len(uids) == 0 && required:
		return nil, fmt.Errorf("%w: %s missing", errBadIdentifier, name)
	case len(uids) > index.MaxUIDList:
		return nil, fmt.Errorf("%w: more than %d UIDs in %s", errBadIdentifier, index.MaxUIDList, name)
	}
	for _, u := range uids {
		if uid.Valid(u) != nil {
			return nil, fmt.Errorf("%w: invalid UID in %s", errBadIdentifier, name)
		}
	}
	return uids, nil
}

// parentUID returns the single optional unique key of a level above the
// requested one.
func parentUID(id *dicom.Dataset, t dicom.Tag) (string, error) {
	uids, err := uidList(id, t, false)
	if err != nil {
		return "", err
	}
	if len(uids) > 1 {
		return "", fmt.Errorf("%w: more than one %s", errBadIdentifier, tagName(t))
	}
	if len(uids) == 0 {
		return "", nil
	}
	return uids[0], nil
}

// nonEmpty returns the values without surrounding spaces, empty ones left
// out.
func nonEmpty(vs []string) []string {
	out := vs[:0:0]
	for _, v := range vs {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// errTooManyInstances is returned by locate beyond MaxSubOperations.
var errTooManyInstances = errors.New("more instances than sub-operations can count")

// locate returns the stored instances a request names, each once, in the
// order of its keys and then of the index (series, instance). Unknown keys
// match nothing.
func locate(ctx context.Context, ix *index.Index, rq retrieveRequest) ([]index.Location, error) {
	var locs []index.Location
	seen := map[string]bool{}
	for _, k := range rq.keys {
		found, err := ix.Locations(ctx, rq.level, k)
		if errors.Is(err, index.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		for _, l := range found {
			if seen[l.SOPInstanceUID] || (rq.study != "" && l.StudyInstanceUID != rq.study) ||
				(rq.series != "" && l.SeriesInstanceUID != rq.series) {
				continue
			}
			seen[l.SOPInstanceUID] = true
			locs = append(locs, l)
		}
		if len(locs) > MaxSubOperations {
			return nil, errTooManyInstances
		}
	}
	return locs, nil
}

// resolve parses the identifier and locates its instances; on failure it
// returns the final status to answer.
func (r *retriever) resolve(ctx context.Context, root index.Root, id *dicom.Dataset) ([]index.Location, dimse.Status, bool) {
	rq, err := parseRetrieve(root, id)
	if err != nil {
		return nil, dimse.StatusDataSetDoesNotMatchSOPClass.WithComment(err.Error()), false // A900
	}
	locs, err := locate(ctx, r.o.Index, rq)
	switch {
	case errors.Is(err, errTooManyInstances):
		return nil, dimse.Status{Code: dimse.CodeOutOfResourcesMatches, ErrorComment: fmt.Sprintf("more than %d instances match", MaxSubOperations)}, false
	case err != nil:
		if ctx.Err() == nil {
			r.log.Error("locating instances failed", "error", err)
		}
		return nil, dimse.StatusCannotUnderstand.WithComment("index lookup failed"), false
	}
	return locs, dimse.StatusSuccess, true
}

// tagName returns the dictionary name of a standard tag.
func tagName(t dicom.Tag) string {
	e, _ := dicom.LookupTag(t)
	return e.Name
}
