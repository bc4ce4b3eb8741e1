package peertest

import (
	"context"
	"io"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

func TestStartS3(t *testing.T) {
	s := StartS3(t)
	if s.BucketExists(t, "peertest") {
		t.Fatal("BucketExists() = true before CreateBucket")
	}
	s.CreateBucket(t, "peertest")
	if !s.BucketExists(t, "peertest") {
		t.Fatal("BucketExists() = false after CreateBucket")
	}
	ctx := context.Background()
	c := s.Client()
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("peertest"), Key: aws.String("a/b"),
		Body: strings.NewReader("hello")}); err != nil {
		t.Fatalf("PutObject() error = %v", err)
	}
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("peertest"), Key: aws.String("a/b")})
	if err != nil {
		t.Fatalf("GetObject() error = %v", err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if got, want := string(b), "hello"; err != nil || got != want {
		t.Fatalf("GetObject() body = %q, %v, want %q", got, err, want)
	}
}
