package peertest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// OrthancBinary is where Debian's orthanc package installs the server.
const OrthancBinary = "/usr/sbin/Orthanc"

// Limits of StartOrthanc.
const (
	orthancStartTimeout = 30 * time.Second // until GET /system answers
	orthancStopTimeout  = 30 * time.Second // after SIGTERM, before SIGKILL
	orthancStartTries   = 3                // a free port may be taken before Orthanc binds it
	orthancMaxResponse  = 64 << 20         // bytes of a REST response read by the helpers
)

// OrthancOptions configure StartOrthanc. The zero value is an Orthanc with
// AE title ORTHANC that knows no remote modality.
type OrthancOptions struct {
	// AETitle is Orthanc's own AE title (DicomAet); empty means "ORTHANC".
	// Orthanc does not check the called AE title of incoming associations.
	AETitle string
	// Modalities are the peers Orthanc knows (DicomModalities), AE title to
	// "host:port". A C-MOVE destination must be listed here.
	Modalities map[string]string
}

// Orthanc is a running Orthanc server started by StartOrthanc. It listens on
// every interface (Orthanc has no bind-address option); connect to 127.0.0.1.
type Orthanc struct {
	AETitle   string // DICOM AE title
	DICOMPort int    // DICOM port on 127.0.0.1
	HTTPPort  int    // REST port on 127.0.0.1
	Dir       string // configuration, storage, index and log directory

	cmd *exec.Cmd
}

// StartOrthanc starts OrthancBinary on free DICOM and HTTP ports with a fresh
// configuration, storage and index in a temporary directory, exports
// TCP_NODELAY=1 to it, and returns once its REST API answers. At the end of the
// test it sends SIGTERM and waits until the process is gone (a SIGKILL follows
// after orthancStopTimeout). Every C-ECHO, C-STORE, C-FIND, C-GET and C-MOVE is
// allowed from any AE. When the binary is missing the test is skipped, or
// failed under CI.
func StartOrthanc(t testing.TB, opt OrthancOptions) *Orthanc {
	t.Helper()
	if _, err := os.Stat(OrthancBinary); err != nil {
		unavailable(t, "%s: %v; %s", OrthancBinary, err, "apt-get install orthanc")
	}
	if opt.AETitle == "" {
		opt.AETitle = "ORTHANC"
	}
	return startServer(t, peerServer{
		name:         "Orthanc",
		ports:        2,
		tries:        orthancStartTries,
		startTimeout: orthancStartTimeout,
		poll:         50 * time.Millisecond,
		stopSignal:   syscall.SIGTERM,
		stopTimeout:  orthancStopTimeout,
	}, func(dir string, ports []int) (*Orthanc, *exec.Cmd, func() error, error) {
		return launchOrthanc(opt, dir, ports)
	})
}

// launchOrthanc writes the configuration of an Orthanc with DICOM port
// ports[0] and HTTP port ports[1] into dir and returns the Orthanc, its
// command and its readiness probe (GET /system) for startServer.
func launchOrthanc(opt OrthancOptions, dir string, ports []int) (*Orthanc, *exec.Cmd, func() error, error) {
	o := &Orthanc{AETitle: opt.AETitle, DICOMPort: ports[0], HTTPPort: ports[1], Dir: dir}
	modalities := map[string][]any{}
	for ae, addr := range opt.Modalities {
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("modality %s: %w", ae, err)
		}
		p, err := strconv.Atoi(port)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("modality %s: port %q: %w", ae, port, err)
		}
		modalities[ae] = []any{ae, host, p}
	}
	conf := map[string]any{
		"Name":                    "TEST-ORTHANC",
		"StorageDirectory":        filepath.Join(dir, "storage"),
		"IndexDirectory":          filepath.Join(dir, "index"),
		"Plugins":                 []string{},
		"HttpPort":                o.HTTPPort,
		"RemoteAccessAllowed":     false,
		"AuthenticationEnabled":   false,
		"DicomAet":                o.AETitle,
		"DicomPort":               o.DICOMPort,
		"DicomCheckCalledAet":     false,
		"DicomAlwaysAllowEcho":    true,
		"DicomAlwaysAllowStore":   true,
		"DicomAlwaysAllowFind":    true,
		"DicomAlwaysAllowGet":     true,
		"DicomAlwaysAllowMove":    true,
		"UnknownSopClassAccepted": true,
		"DicomModalities":         modalities,
		"StableAge":               2,
	}
	b, err := json.MarshalIndent(conf, "", "  ")
	if err != nil {
		return nil, nil, nil, err
	}
	confPath := filepath.Join(dir, "orthanc.json")
	if err := os.WriteFile(confPath, b, 0o644); err != nil {
		return nil, nil, nil, err
	}
	logDir := filepath.Join(dir, "log")
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		return nil, nil, nil, err
	}
	cmd := exec.Command(OrthancBinary, "--logdir="+logDir, confPath)
	SetNoDelay(cmd)
	o.cmd = cmd
	return o, cmd, func() error { _, err := o.get("/system"); return err }, nil
}

// URL returns the address of a REST resource such as "/instances".
func (o *Orthanc) URL(path string) string {
	return "http://127.0.0.1:" + strconv.Itoa(o.HTTPPort) + path
}

// get performs GET on a REST path and returns the body of a 2xx answer.
func (o *Orthanc) get(path string) ([]byte, error) {
	resp, err := http.Get(o.URL(path))
	if err != nil {
		return nil, err
	}
	return readResponse(resp)
}

func readResponse(resp *http.Response) ([]byte, error) {
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, orthancMaxResponse))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode/100 != 2 {
		return nil, fmt.Errorf("%s %s: %s: %s", resp.Request.Method, resp.Request.URL.Path, resp.Status, bytes.TrimSpace(b))
	}
	return b, nil
}

// GetJSON performs GET on a REST path (such as "/studies?expand") and decodes
// the JSON answer into v, failing the test on any error.
func (o *Orthanc) GetJSON(t testing.TB, path string, v any) {
	t.Helper()
	b, err := o.get(path)
	if err != nil {
		t.Fatalf("Orthanc: %v", err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("Orthanc GET %s: decode: %v", path, err)
	}
}

// Upload loads the DICOM file at path into Orthanc (POST /instances) and
// returns Orthanc's instance ID. It fails the test if Orthanc refuses it.
func (o *Orthanc) Upload(t testing.TB, path string) string {
	t.Helper()
	id, err := o.upload(path)
	if err != nil {
		t.Fatalf("Orthanc upload %s: %v", path, err)
	}
	return id
}

func (o *Orthanc) upload(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	resp, err := http.Post(o.URL("/instances"), "application/dicom", f)
	if err != nil {
		return "", err
	}
	b, err := readResponse(resp)
	if err != nil {
		return "", err
	}
	var r struct{ ID, Status string }
	if err := json.Unmarshal(b, &r); err != nil {
		return "", fmt.Errorf("decode answer: %w", err)
	}
	if r.ID == "" {
		return "", errors.New("answer without ID: " + string(b))
	}
	return r.ID, nil
}

// OrthancInstance is what Instances reports of one stored instance.
type OrthancInstance struct {
	ID             string // Orthanc's identifier
	SOPInstanceUID string
	ParentSeries   string // Orthanc's identifier of the series
}

// InstancesDetail lists every instance Orthanc stores (GET /instances?expand).
func (o *Orthanc) InstancesDetail(t testing.TB) []OrthancInstance {
	t.Helper()
	var raw []struct {
		ID            string
		ParentSeries  string
		MainDicomTags map[string]any
	}
	o.GetJSON(t, "/instances?expand", &raw)
	out := make([]OrthancInstance, 0, len(raw))
	for _, r := range raw {
		uid, _ := r.MainDicomTags["SOPInstanceUID"].(string)
		out = append(out, OrthancInstance{ID: r.ID, SOPInstanceUID: uid, ParentSeries: r.ParentSeries})
	}
	return out
}

// Instances returns the SOP Instance UID of every instance Orthanc stores, in
// no particular order.
func (o *Orthanc) Instances(t testing.TB) []string {
	t.Helper()
	var uids []string
	for _, in := range o.InstancesDetail(t) {
		uids = append(uids, in.SOPInstanceUID)
	}
	return uids
}

// File returns the stored DICOM file of an instance by Orthanc's identifier
// (GET /instances/{id}/file), as Orthanc keeps it.
func (o *Orthanc) File(t testing.TB, id string) []byte {
	t.Helper()
	b, err := o.get("/instances/" + id + "/file")
	if err != nil {
		t.Fatalf("Orthanc: %v", err)
	}
	return b
}

// Studies returns the Study Instance UID of every study Orthanc stores.
func (o *Orthanc) Studies(t testing.TB) []string {
	t.Helper()
	var raw []struct{ MainDicomTags map[string]any }
	o.GetJSON(t, "/studies?expand", &raw)
	var uids []string
	for _, r := range raw {
		if uid, _ := r.MainDicomTags["StudyInstanceUID"].(string); uid != "" {
			uids = append(uids, uid)
		}
	}
	return uids
}
