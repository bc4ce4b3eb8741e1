package storagetest

import (
	"slices"
	"strings"
	"testing"

	"github.com/pacsforge/pacs/sdk"
)

// unusualKeys are valid keys (relative to a prefix) with characters that
// URL encoders, signers and path handling get wrong.
var unusualKeys = []string{
	"with space/and  two.dcm",
	"plus+sign.dcm",
	"percent%41%2F%.dcm",
	"hash#and?query=1&x=2.dcm",
	"unicodé/日本語/Ωmega.dcm",
	"tilde~at@colon:semi;comma,.dcm",
	"quote'double\"paren(1)[2]{3}!$*.dcm",
	"angle<less>greater|pipe^caret`.dcm",
	".leading-dot/.hidden",
	"-dash_under.score",
}

// testKeys round-trips keys with unusual characters and a key of
// sdk.MaxKeyLength bytes.
func testKeys(t *testing.T, e *env) {
	keys := make([]string, 0, len(unusualKeys)+1)
	for _, rel := range unusualKeys {
		keys = append(keys, e.key("k/"+rel))
	}
	long := e.key("k/")
	for len(long) < sdk.MaxKeyLength-201 {
		long += strings.Repeat("x", 199) + "/"
	}
	long += strings.Repeat("y", sdk.MaxKeyLength-len(long))
	keys = append(keys, long)

	objs := map[string]object{}
	for i, k := range keys {
		objs[k] = newObject(uint64(600+i), 10+i)
		e.put(t, k, objs[k], i%2 == 0)
	}
	for _, k := range keys {
		e.wantObject(t, k, objs[k])
	}
	slices.Sort(keys)
	e.wantList(t, "List", e.key("k/"), e.list(t, e.key("k/"), 0), keys, objs)
	for _, k := range keys {
		if err := e.s.Delete(t.Context(), k); err != nil {
			t.Errorf("Delete(%q) error = %v", k, err)
		}
		e.wantAbsent(t, k)
	}
}
