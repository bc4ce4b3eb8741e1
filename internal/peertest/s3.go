package peertest

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Fixed credentials and region of the S3 servers StartS3 starts.
const (
	S3AccessKeyID     = "pacs-test-access-key"
	S3SecretAccessKey = "pacs-test-secret-key-0123456789"
	S3Region          = "us-east-1"
)

// Limits of StartS3.
const (
	s3StartTimeout = 30 * time.Second // until the endpoint answers HTTP
	s3StopTimeout  = 10 * time.Second // after SIGKILL, before giving up waiting
	s3StartTries   = 3                // a free port may be taken before VersityGW binds it
)

// S3Server is a running VersityGW started by StartS3: a real S3 server that
// checks SigV4 signatures, with path-style addressing, on 127.0.0.1.
type S3Server struct {
	Endpoint        string // "http://127.0.0.1:PORT"
	Region          string // S3Region
	AccessKeyID     string // S3AccessKeyID
	SecretAccessKey string // S3SecretAccessKey
	Dir             string // the posix backend's root: one directory per bucket

	client *s3.Client
}

// PeerCache returns the directory the peers that are not Debian packages
// are installed under: $PACS_PEER_CACHE, else ~/.cache/pacs-peers.
func PeerCache() string {
	if d := os.Getenv("PACS_PEER_CACHE"); d != "" {
		return d
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return filepath.Join(os.TempDir(), "pacs-peers")
	}
	return filepath.Join(home, ".cache", "pacs-peers")
}

// VersityGWBinary returns where scripts/install-peers.sh installs VersityGW.
func VersityGWBinary() string { return filepath.Join(PeerCache(), "bin", "versitygw") }

// StartS3 starts VersityGW on a free loopback port with a posix backend in
// a temporary directory and the fixed test credentials, and returns once it
// answers HTTP. At the end of the test the process is killed and waited
// for. When the binary is missing the test is skipped, or failed under CI.
func StartS3(t testing.TB) *S3Server {
	t.Helper()
	bin := VersityGWBinary()
	if _, err := os.Stat(bin); err != nil {
		unavailable(t, "%s: %v; %s", bin, err, "run scripts/install-peers.sh")
	}
	return startServer(t, peerServer{
		name:         "VersityGW",
		ports:        1,
		tries:        s3StartTries,
		startTimeout: s3StartTimeout,
		poll:         20 * time.Millisecond,
		stopSignal:   syscall.SIGKILL,
		stopTimeout:  s3StopTimeout,
		log:          "versitygw.log",
	}, func(dir string, ports []int) (*S3Server, *exec.Cmd, func() error, error) {
		data := filepath.Join(dir, "data")
		if err := os.Mkdir(data, 0o755); err != nil {
			return nil, nil, nil, err
		}
		addr := "127.0.0.1:" + strconv.Itoa(ports[0])
		cmd := exec.Command(bin, "--port", addr, "--access", S3AccessKeyID, "--secret", S3SecretAccessKey,
			"--region", S3Region, "--quiet", "posix", data)
		cmd.Env = []string{"HOME=" + dir, "PATH=" + os.Getenv("PATH")} // no credentials inherited
		s := &S3Server{
			Endpoint:        "http://" + addr,
			Region:          S3Region,
			AccessKeyID:     S3AccessKeyID,
			SecretAccessKey: S3SecretAccessKey,
			Dir:             data,
		}
		s.client = s3.New(s3.Options{
			BaseEndpoint:               aws.String(s.Endpoint),
			Region:                     s.Region,
			UsePathStyle:               true,
			Credentials:                credentials.NewStaticCredentialsProvider(s.AccessKeyID, s.SecretAccessKey, ""),
			RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
			ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
		})
		return s, cmd, answersHTTP(s.Endpoint+"/", time.Second), nil
	})
}

// Client returns an S3 client for the server, with the test credentials and
// path-style addressing, for a test's own checks.
func (s *S3Server) Client() *s3.Client { return s.client }

// CreateBucket creates the bucket name, failing the test on error.
func (s *S3Server) CreateBucket(t testing.TB, name string) {
	t.Helper()
	if _, err := s.client.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatalf("create bucket %s: %v", name, err)
	}
}

// BucketExists reports whether the bucket name exists, failing the test on
// any error but a missing bucket.
func (s *S3Server) BucketExists(t testing.TB, name string) bool {
	t.Helper()
	_, err := s.client.HeadBucket(context.Background(), &s3.HeadBucketInput{Bucket: aws.String(name)})
	if err == nil {
		return true
	}
	var nf interface{ ErrorCode() string }
	if errors.As(err, &nf) && (nf.ErrorCode() == "NotFound" || nf.ErrorCode() == "NoSuchBucket") {
		return false
	}
	t.Fatalf("head bucket %s: %v", name, err)
	return false
}
