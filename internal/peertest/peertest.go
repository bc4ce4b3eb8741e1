package peertest

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// InstallHint tells a developer how to install the missing peers.
const InstallHint = "run scripts/install-peers.sh as root (or `make test`), or apt-get install dcmtk dicom3tools libgdcm-tools python3-pydicom"

// UnderCI reports whether the tests run under continuous integration, that is
// whether the environment variable CI is exactly "true". Under CI a missing
// peer fails the test instead of skipping it.
func UnderCI() bool { return os.Getenv("CI") == "true" }

// Need looks each tool up on PATH. When one or more are missing, it stops the
// test: with t.Fatalf under CI (see UnderCI), else with t.Skipf and a message
// that starts with "SKIP (peer missing):". It returns normally only when every
// tool was found.
func Need(t testing.TB, tools ...string) {
	t.Helper()
	var missing []string
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			missing = append(missing, tool)
		}
	}
	if len(missing) == 0 {
		return
	}
	unavailable(t, "%s not on PATH; %s", strings.Join(missing, ", "), InstallHint)
}

// unavailable stops the test because a peer is missing: a failure under CI, a
// loud skip elsewhere.
func unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	if UnderCI() {
		t.Fatalf("peer missing under CI=true: "+format, args...)
	}
	t.Skipf("SKIP (peer missing): "+format, args...)
}

// SetNoDelay adds TCP_NODELAY=1 to the environment of cmd, inheriting the
// current process's environment when cmd.Env is nil. Debian's dcmtk and
// Orthanc leave Nagle's algorithm on without it, and each small message then
// waits for a delayed ACK (about 40 ms). Call it before cmd.Start.
func SetNoDelay(cmd *exec.Cmd) {
	if cmd.Env == nil {
		cmd.Env = os.Environ()
	}
	cmd.Env = append(cmd.Env, "TCP_NODELAY=1")
}
