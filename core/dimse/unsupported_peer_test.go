package dimse_test

import (
	"strings"
	"testing"

	"github.com/pacsforge/pacs/core/dicom/uid"
	"github.com/pacsforge/pacs/core/dimse"
	"github.com/pacsforge/pacs/internal/peertest"
)

// TestEchoscuOnlyUnsupportedSyntax: echoscu proposes Verification with
// Implicit VR Little Endian only, which this SCP does not accept for it. The
// association is accepted, the context is rejected with result 4 (transfer
// syntaxes not supported), and echoscu finds no context to send its C-ECHO on.
func TestEchoscuOnlyUnsupportedSyntax(t *testing.T) {
	peertest.Need(t, "echoscu")
	policy := storagePolicy()
	policy.Syntaxes = map[string][]string{uid.Verification: {uid.ExplicitVRLittleEndian}}
	policy.AcceptAny = false
	s := startSCP(t, policy, dimse.NewMux(nil))
	out, err := run(t, "echoscu", "-d", "-aec", "TEST", "127.0.0.1", s.port)
	if err == nil {
		t.Fatalf("echoscu succeeded without an acceptable context:\n%s", out)
	}
	for _, want := range []string{"A-ASSOCIATE-AC", "(Transfer Syntaxes Not Supported)", "No Acceptable Presentation Contexts"} {
		if !strings.Contains(out, want) {
			t.Errorf("echoscu output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "Association Rejected") {
		t.Errorf("association rejected instead of the context:\n%s", out)
	}
}
