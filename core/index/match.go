package index

import (
	"strconv"
	"strings"

	"github.com/pacsforge/pacs/core/dicom"
)

// This file holds matching in Go (PS3.4 C.2.2.2), used for keys without a
// column, against the stored attributes of an entity. It follows the same
// rules as the SQL built in query.go.

// wildcardVR reports whether wildcard matching applies to values of vr
// (PS3.4 C.2.2.2.4).
func wildcardVR(vr dicom.VR) bool {
	switch vr {
	case dicom.AE, dicom.CS, dicom.LO, dicom.LT, dicom.PN, dicom.SH, dicom.ST, dicom.UC, dicom.UR, dicom.UT:
		return true
	}
	return false
}

// emptyValue is the key value of empty value matching: it matches entities
// whose attribute is absent or empty.
const emptyValue = `""`

// universal reports whether key values match every entity: no value, or a
// wildcard pattern of only stars.
func universal(vr dicom.VR, vals []string) bool {
	for _, v := range vals {
		if v != "" && !(wildcardVR(vr) && onlyStars(v)) {
			return false
		}
	}
	return true
}

// keyVR is the VR matching uses for a key: its own, or the dictionary's when
// the key was received without one.
func keyVR(e *dicom.Element) dicom.VR {
	if e.VR != dicom.UN && e.VR != dicom.NoVR {
		return e.VR
	}
	if d, ok := dicom.LookupTag(e.Tag); ok && d.VR != dicom.NoVR {
		return d.VR
	}
	return e.VR
}

// matchElement reports whether the attribute of ds with the key's tag
// matches the key. kc decodes the key's text.
func matchElement(k *dicom.Element, kc dicom.TextCodec, ds *dicom.Dataset, ci bool, depth int) bool {
	if k.IsSequence() {
		return matchSequence(k, kc, ds, ci, depth)
	}
	vr := keyVR(k)
	keys := k.Strings(kc)
	if universal(vr, keys) {
		return true
	}
	var vals []string
	if e := ds.Get(k.Tag); e != nil {
		vals = e.Strings(ds.Codec)
	}
	if len(vals) == 0 {
		vals = []string{""}
	}
	for _, kv := range keys {
		for _, sv := range vals {
			if matchValue(vr, kv, sv, ci) {
				return true
			}
		}
	}
	return false
}

// matchSequence applies sequence matching (PS3.4 C.2.2.2.6): an item of the
// stored sequence must match every key of the key's item. A key without
// items, or whose item holds only universal keys, matches everything.
func matchSequence(k *dicom.Element, kc dicom.TextCodec, ds *dicom.Dataset, ci bool, depth int) bool {
	if len(k.Items) == 0 || depth >= maxDepth {
		return true
	}
	item := k.Items[0]
	ic := item.Codec
	if ic == nil {
		ic = kc
	}
	if itemUniversal(item, ic) {
		return true
	}
	e := ds.Get(k.Tag)
	if e == nil {
		return false
	}
	for _, stored := range e.Items {
		ok := true
		for ke := range item.All() {
			if !matchElement(ke, ic, stored, ci, depth+1) {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// itemUniversal reports whether every key of a sequence item is universal.
func itemUniversal(item *dicom.Dataset, ic dicom.TextCodec) bool {
	for ke := range item.All() {
		if ke.IsSequence() {
			if len(ke.Items) > 0 && !itemUniversal(ke.Items[0], ic) {
				return false
			}
			continue
		}
		if !universal(keyVR(ke), ke.Strings(ic)) {
			return false
		}
	}
	return true
}

// matchValue matches one stored value against one key value.
func matchValue(vr dicom.VR, kv, sv string, ci bool) bool {
	if kv == emptyValue {
		return sv == ""
	}
	switch vr {
	case dicom.DA:
		return matchRange(kv, sv, normDA, normDA)
	case dicom.TM:
		return matchRange(kv, sv, normTM, upperTM)
	case dicom.DT:
		lo, hi, isRange := splitDTRange(kv)
		s := normDT(sv)
		if !isRange {
			return s != "" && s == normDT(kv)
		}
		return s != "" && (lo == "" || s >= padDT(lo, false)) && (hi == "" || s <= padDT(hi, true))
	case dicom.PN:
		kv, sv = normPN(kv), normPN(sv)
		if ci {
			kv, sv = foldPN(kv), foldPN(sv)
		}
		if onlyStars(kv) {
			return true
		}
		if wildcardMatch(kv, sv) {
			return true
		}
		// A name given without component groups also matches the
		// alphabetic group of a stored name that has several.
		return !strings.Contains(kv, "=") && wildcardMatch(kv+"=*", sv)
	case dicom.IS:
		return normIS(kv) == normIS(sv)
	case dicom.DS, dicom.FL, dicom.FD, dicom.US, dicom.SS, dicom.UL, dicom.SL, dicom.UV, dicom.SV:
		a, errA := strconv.ParseFloat(strings.TrimSpace(kv), 64)
		b, errB := strconv.ParseFloat(strings.TrimSpace(sv), 64)
		if errA == nil && errB == nil {
			return a == b
		}
		return kv == sv
	}
	if wildcardVR(vr) {
		if onlyStars(kv) {
			return true
		}
		if hasWildcard(kv) {
			return wildcardMatch(kv, sv)
		}
	}
	return kv == sv
}

// matchRange matches a DA or TM value against a single value or a range
// (PS3.4 C.2.2.2.5); lower and upper normalise the range's ends.
func matchRange(kv, sv string, lower, upper func(string) string) bool {
	s := lower(sv)
	if s == "" {
		return false
	}
	lo, hi, isRange := strings.Cut(kv, "-")
	if !isRange {
		return s == lower(kv)
	}
	return (lo == "" || s >= lower(lo)) && (hi == "" || s <= upper(hi))
}

// splitDTRange splits a DT key into the ends of a range. A hyphen may also
// start a UTC offset, so the split is made at the first hyphen whose sides
// are both empty or date-times.
func splitDTRange(kv string) (lo, hi string, isRange bool) {
	for i := 0; i < len(kv); i++ {
		if kv[i] != '-' {
			continue
		}
		l, h := kv[:i], kv[i+1:]
		if (l == "" || normDT(l) != "") && (h == "" || normDT(h) != "") {
			return l, h, true
		}
	}
	return "", "", false
}
