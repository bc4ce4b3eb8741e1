package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/pacsforge/pacs/core/dicom"
	"github.com/pacsforge/pacs/internal/peertest"
)

// TestServeTLSDcmtk: pacs serve with a dicom.tls block, client certificates
// required, against dcmtk's echoscu, storescu and findscu, and pacs's own
// echo and find. A client with a certificate the site's CA list holds is
// served over TLS, and what it stores is found over the plain listener and
// over TLS; no certificate, an unknown one, or no TLS at all is refused at
// the handshake and logged; the plain listener keeps serving.
func TestServeTLSDcmtk(t *testing.T) {
	peertest.Need(t, "echoscu", "storescu", "findscu")
	ds, _, ts := ctSmall(t)
	server := peertest.NewServerCert(t)
	client := peertest.NewClientCert(t, "MODALITY-1")
	intruder := peertest.NewClientCert(t, "INTRUDER")
	dicomPort, tlsPort := freePort(t), freePort(t)
	cfg := fmt.Sprintf(`data_dir = %q
dicom {
  listen = "127.0.0.1:%d"
  tls {
    listen         = "127.0.0.1:%d"
    cert_file      = %q
    key_file       = %q
    client_ca_file = %q
  }
}
http {
  listen = "127.0.0.1:%d"
}
`, t.TempDir(), dicomPort, tlsPort, server.CertFile, server.KeyFile, client.CertFile, freePort(t))
	p := startPacs(t, buildPacs(t), writeFile(t, "pacs.hcl", cfg))

	// dcmtk's TLS options: +tls KEY CERT presents a certificate, +tla
	// none; +cf trusts the server's.
	withCert := func(c *peertest.Cert) []string {
		if c == nil {
			return []string{"+tla", "+cf", server.CertFile}
		}
		return []string{"+tls", c.KeyFile, c.CertFile, "+cf", server.CertFile}
	}
	// run runs tool with options opts against port, files after.
	run := func(tool string, port int, opts []string, files ...string) (string, error) {
		args := append(append([]string{"-aet", "MODALITY", "-aec", "FORGE"}, opts...), "127.0.0.1", strconv.Itoa(port))
		return runPeer(t, tool, append(args, files...)...)
	}
	if out, err := run("echoscu", tlsPort, withCert(client)); err != nil {
		t.Errorf("echoscu over TLS with a trusted certificate: %v\n%s", err, out)
	}
	for name, args := range map[string][]string{
		"no client certificate":   withCert(nil),
		"an unknown certificate":  withCert(intruder),
		"no TLS, on the TLS port": nil,
	} {
		if out, err := run("echoscu", tlsPort, args); err == nil {
			t.Errorf("echoscu with %s: served\n%s", name, out)
		}
	}
	if out, err := run("echoscu", dicomPort, nil); err != nil {
		t.Errorf("echoscu on the plain listener: %v\n%s", err, out)
	}

	file := filepath.Join(t.TempDir(), "ct.dcm")
	writeSendable(t, sendable{path: file, inst: ds.String(dicom.SOPInstanceUID), ts: ts, ds: ds})
	if out, err := run("storescu", tlsPort, withCert(client), file); err != nil {
		t.Fatalf("storescu over TLS: %v\n%s", err, out)
	}
	out, err := run("findscu", dicomPort, []string{"-v", "-S", "-k", "QueryRetrieveLevel=IMAGE",
		"-k", "StudyInstanceUID=" + ds.String(dicom.StudyInstanceUID), "-k", "SeriesInstanceUID=" + ds.String(dicom.SeriesInstanceUID),
		"-k", "SOPInstanceUID=" + ds.String(dicom.SOPInstanceUID)})
	if err != nil || strings.Count(out, "(Pending)") != 1 {
		t.Errorf("findscu for the instance stored over TLS: %v, want one match\n%s", err, out)
	}

	// pacs's own SCU commands, over TLS.
	tlsPortArg := strconv.Itoa(tlsPort)
	ours := []string{"-aec", "FORGE", "-ca-file", server.CertFile, "-cert", client.CertFile, "-key", client.KeyFile}
	if code, out, errOut := runCmd(t, runEcho, append(ours, "127.0.0.1", tlsPortArg)...); code != 0 {
		t.Errorf("pacs echo over TLS = %d\n%s%s", code, out, errOut)
	}
	for name, args := range map[string][]string{
		"no client certificate":                          {"-aec", "FORGE", "-ca-file", server.CertFile},
		"a server certificate the system does not trust": {"-aec", "FORGE", "-tls", "-cert", client.CertFile, "-key", client.KeyFile},
		"-cert without -key":                             {"-aec", "FORGE", "-ca-file", server.CertFile, "-cert", client.CertFile},
	} {
		if code, _, _ := runCmd(t, runEcho, append(args, "--timeout", "5s", "127.0.0.1", tlsPortArg)...); code != 1 {
			t.Errorf("pacs echo with %s = %d, want 1", name, code)
		}
	}
	code, out, errOut := runCmd(t, runFind, append(ours, "-L", "IMAGE", "-k", "StudyInstanceUID="+ds.String(dicom.StudyInstanceUID),
		"-k", "SeriesInstanceUID="+ds.String(dicom.SeriesInstanceUID), "-k", "SOPInstanceUID", "127.0.0.1", tlsPortArg)...)
	if code != 0 || !strings.Contains(out, ds.String(dicom.SOPInstanceUID)) {
		t.Errorf("pacs find over TLS = %d, want the instance stored\n%s%s", code, out, errOut)
	}

	log := p.log.String()
	for _, want := range []string{
		"DICOM server listening for TLS: addr=127.0.0.1:" + strconv.Itoa(tlsPort),
		"TLS handshake failed",
		"tls_peer=CN=MODALITY-1",
	} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q", want)
		}
	}
	if t.Failed() {
		t.Logf("server log:\n%s", log)
	}
	p.stop(t)
	if _, err := os.Stat(p.dataDir); err != nil {
		t.Fatal(err)
	}
}
