package uid

import (
	"errors"
	"fmt"
	"strings"
	"sync"
)

// Implementation identification of Forge PACS, sent in A-ASSOCIATE (PS3.7
// Annex D.3.3.2) and written to the File Meta Information (PS3.10 §7.1).
const (
	// ImplementationClassUID is the Implementation Class UID of Forge PACS,
	// a UUID-derived UID under the root 2.25 (PS3.5 §B.2). It never changes
	// between releases; ImplementationVersionName does.
	ImplementationClassUID = "2.25.255906189563812540380391412350339126063"
	// ImplementationVersionName is the Implementation Version Name of this
	// release of Forge PACS: at most 16 characters of the SH repertoire.
	ImplementationVersionName = "FORGE_PACS_010"
)

// MaxLength is the maximum length of a UID in characters (PS3.5 §9.1).
const MaxLength = 64

// Type is the kind of a registered UID: the "UID Type" column of PS3.6
// Table A-1, or a frame of reference of Table A-2.
type Type string

// The types of the registry.
const (
	TypeApplicationContextName          Type = "Application Context Name"
	TypeApplicationHostingModel         Type = "Application Hosting Model"
	TypeCodingScheme                    Type = "Coding Scheme"
	TypeDICOMUIDsAsCodingScheme         Type = "DICOM UIDs as a Coding Scheme"
	TypeLDAPOID                         Type = "LDAP OID"
	TypeMappingResource                 Type = "Mapping Resource"
	TypeMetaSOPClass                    Type = "Meta SOP Class"
	TypeSOPClass                        Type = "SOP Class"
	TypeServiceClass                    Type = "Service Class"
	TypeSynchronizationFrameOfReference Type = "Synchronization Frame of Reference"
	TypeTransferSyntax                  Type = "Transfer Syntax"
	TypeWellKnownSOPInstance            Type = "Well-known SOP Instance"
	TypeWellKnownFrameOfReference       Type = "Well-known frame of reference"
)

// Info describes a registered UID.
type Info struct {
	UID string
	// Name is the UID Name of PS3.6 without its "(Retired)" suffix and
	// without the text after a colon, which is in Info: "Implicit VR Little
	// Endian". Two retired UIDs have no name.
	Name string
	// Keyword is the UID Keyword of PS3.6 ("ImplicitVRLittleEndian"); the
	// Go constant has the same name with its first letter upper-cased.
	Keyword string
	Type    Type
	// Info is the remark after the name: "Default Transfer Syntax for DICOM",
	// "DICOS", or the edition in which a UID was retired, "(2015c)".
	Info    string
	Retired bool
}

var byUID = sync.OnceValue(func() map[string]int {
	m := make(map[string]int, len(registry))
	for i, e := range registry {
		m[e.UID] = i
	}
	return m
})

// Lookup returns the registry entry of the UID u, and false if u is not
// registered. It does not allocate.
func Lookup(u string) (Info, bool) {
	i, ok := byUID()[u]
	if !ok {
		return Info{}, false
	}
	return registry[i], true
}

var byKeyword = sync.OnceValue(func() map[string]int {
	m := make(map[string]int, len(registry))
	for i, e := range registry {
		if e.Keyword != "" {
			m[e.Keyword] = i
		}
	}
	return m
})

// ByKeyword returns the registry entry whose keyword is kw, spelled as in
// PS3.6 ("CTImageStorage", "dicomDeviceName"); the match is case-sensitive.
func ByKeyword(kw string) (Info, bool) {
	i, ok := byKeyword()[kw]
	if !ok {
		return Info{}, false
	}
	return registry[i], true
}

// All returns every registered UID, retired ones included, sorted by UID
// string. The slice is a new copy.
func All() []Info {
	return append([]Info(nil), registry...)
}

// isStorageName reports whether a SOP Class name denotes a Storage SOP Class:
// it contains "Storage" but is not Storage Commitment, Storage Management or
// the Media Storage Directory Storage class of DICOMDIR files.
func isStorageName(name string) bool {
	return strings.Contains(name, "Storage") &&
		!strings.Contains(name, "Storage Commitment") &&
		!strings.Contains(name, "Storage Management") &&
		!strings.Contains(name, "Media Storage Directory")
}

var storage = sync.OnceValues(func() (map[string]bool, []string) {
	m := make(map[string]bool)
	var list []string
	for _, e := range registry {
		if e.Type == TypeSOPClass && isStorageName(e.Name) {
			m[e.UID] = true
			list = append(list, e.UID)
		}
	}
	return m, list
})

// IsStorage reports whether sopClass is a registered Storage SOP Class, active
// or retired: a SOP Class whose name contains "Storage", other than Storage
// Commitment, Storage Management and Media Storage Directory Storage. This
// is the SOP Classes of PS3.4 Table B.5-1 plus the DICOS (…1.501.x) and
// DICONDE (…1.601.x) storage classes of PS3.6 and the retired ones.
func IsStorage(sopClass string) bool {
	m, _ := storage()
	return m[sopClass]
}

// StorageSOPClasses returns the UIDs of the Storage SOP Classes (see
// IsStorage), retired ones included, sorted by UID string. The slice is a new copy.
func StorageSOPClasses() []string {
	_, list := storage()
	return append([]string(nil), list...)
}

// IsTransferSyntax reports whether u is a registered Transfer Syntax UID,
// active or retired.
func IsTransferSyntax(u string) bool {
	i, ok := Lookup(u)
	return ok && i.Type == TypeTransferSyntax
}

// ErrInvalid is wrapped by the errors of Valid.
var ErrInvalid = errors.New("invalid UID")

// Valid checks the syntax of u (PS3.5 §9.1): at most MaxLength characters,
// components of decimal digits separated by '.', no empty component and no
// leading zero in a component of more than one digit. Trailing NUL padding
// must be removed before the call. The error wraps ErrInvalid.
func Valid(u string) error {
	switch {
	case u == "":
		return fmt.Errorf("%w: empty", ErrInvalid)
	case len(u) > MaxLength:
		return fmt.Errorf("%w: %d characters, more than %d", ErrInvalid, len(u), MaxLength)
	}
	start := 0
	for i := 0; i <= len(u); i++ {
		if i < len(u) && u[i] != '.' {
			if u[i] < '0' || u[i] > '9' {
				return fmt.Errorf("%w %q: character %q at offset %d", ErrInvalid, u, u[i], i)
			}
			continue
		}
		switch {
		case i == start:
			return fmt.Errorf("%w %q: empty component at offset %d", ErrInvalid, u, i)
		case u[start] == '0' && i-start > 1:
			return fmt.Errorf("%w %q: leading zero in component at offset %d", ErrInvalid, u, start)
		}
		start = i + 1
	}
	return nil
}
