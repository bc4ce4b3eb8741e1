package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/pacsforge/pacs/core/dicom"
	"github.com/pacsforge/pacs/core/index"
	"github.com/pacsforge/pacs/core/plugin"
	"github.com/pacsforge/pacs/internal/peertest"
)

// backendCase is one storage backend pacs serve runs on end to end.
type backendCase struct {
	// storage is the site's storage block.
	storage string
	// objects lists what the backend really holds, by the archive's key,
	// with each object's size, asking the store itself (not the plugin).
	objects func(t *testing.T) map[string]int64
	// remove deletes the object of the archive's key from the store, and
	// put writes one there, behind the archive's back.
	remove func(t *testing.T, key string)
	put    func(t *testing.T, key string, data []byte)
}

// TestServeBackends: pacs serve (the built executable) on each storage
// backend: the filesystem served out of process, S3 (VersityGW) and Azure
// Blob (Azurite). storescu sends the corpus, movescu moves each study back
// to storescp and every instance arrives with the data set sent; the store
// holds exactly the indexed objects with their sizes; pacs verify (with
// and without --quick) is clean over the same configuration, then reports
// an object deleted and one added behind the archive's back.
func TestServeBackends(t *testing.T) {
	peertest.Need(t, "storescu", "movescu", "storescp")
	files := storescuSendable(t)
	bin := buildPacs(t)
	t.Run("fs-out-of-process", func(t *testing.T) {
		root := t.TempDir()
		runBackendCase(t, bin, files, backendCase{
			storage: fmt.Sprintf(`storage "hot" {
  backend        = "fs"
  out_of_process = true
  config {
    root   = %q
    layout = "date"
  }
}
`, root),
			objects: func(t *testing.T) map[string]int64 { return walkObjects(t, root) },
			remove: func(t *testing.T, key string) {
				if err := os.Remove(filepath.Join(root, filepath.FromSlash(key))); err != nil {
					t.Fatal(err)
				}
			},
			put: func(t *testing.T, key string, data []byte) {
				p := filepath.Join(root, filepath.FromSlash(key))
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, data, 0o644); err != nil {
					t.Fatal(err)
				}
			},
		})
	})
	t.Run("s3", func(t *testing.T) {
		s := peertest.StartS3(t)
		const bucket = "pacs-e2e"
		s.CreateBucket(t, bucket)
		// An object outside the archive's prefix is none of its business.
		if _, err := s.Client().PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(bucket),
			Key: aws.String("other/readme.txt"), Body: strings.NewReader("not the archive's")}); err != nil {
			t.Fatal(err)
		}
		runBackendCase(t, bin, files, backendCase{
			storage: fmt.Sprintf(`storage "s3" {
  backend = "s3"
  config {
    bucket            = %q
    endpoint          = %q
    region            = %q
    access_key_id     = %q
    secret_access_key = %q
    path_style        = true
    prefix            = "pacs"
  }
}
`, bucket, s.Endpoint, s.Region, s.AccessKeyID, s.SecretAccessKey),
			objects: func(t *testing.T) map[string]int64 {
				got := map[string]int64{}
				for key, size := range bucketObjects(t, s.Client(), bucket) {
					if k, ok := strings.CutPrefix(key, "pacs/"); ok {
						got[k] = size
					} else if key != "other/readme.txt" {
						t.Errorf("bucket object %q outside the prefix", key)
					}
				}
				return got
			},
			remove: func(t *testing.T, key string) {
				if _, err := s.Client().DeleteObject(context.Background(), &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String("pacs/" + key)}); err != nil {
					t.Fatal(err)
				}
			},
			put: func(t *testing.T, key string, data []byte) {
				if _, err := s.Client().PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(bucket),
					Key: aws.String("pacs/" + key), Body: bytes.NewReader(data)}); err != nil {
					t.Fatal(err)
				}
			},
		})
	})
	t.Run("azure", func(t *testing.T) {
		az := peertest.StartAzurite(t)
		const container = "pacs-e2e"
		client, err := azblob.NewClientFromConnectionString(az.ConnectionString, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := client.CreateContainer(context.Background(), container, nil); err != nil {
			t.Fatal(err)
		}
		runBackendCase(t, bin, files, backendCase{
			storage: fmt.Sprintf(`storage "azure" {
  backend = "azure"
  config {
    connection_string = %q
    container         = %q
  }
}
`, az.ConnectionString, container),
			objects: func(t *testing.T) map[string]int64 { return containerObjects(t, client, container) },
			remove: func(t *testing.T, key string) {
				if _, err := client.DeleteBlob(context.Background(), container, key, nil); err != nil {
					t.Fatal(err)
				}
			},
			put: func(t *testing.T, key string, data []byte) {
				if _, err := client.UploadBuffer(context.Background(), container, key, data, nil); err != nil {
					t.Fatal(err)
				}
			},
		})
	})
}

// TestExampleCloudConfigs: examples/configs/s3.hcl and azure.hcl, with the
// environment they read pointing at test peers, pass pacs config validate
// and pacs plugins check (the plugin starts, reaches the bucket or
// container and is healthy), and no secret is printed.
func TestExampleCloudConfigs(t *testing.T) {
	examples := filepath.Join("..", "..", "examples", "configs")
	t.Run("s3", func(t *testing.T) {
		s := peertest.StartS3(t)
		s.CreateBucket(t, "pacs")
		checkExample(t, filepath.Join(examples, "s3.hcl"), "s3", map[string]string{
			"S3_BUCKET": "pacs", "S3_ENDPOINT": s.Endpoint, "S3_ACCESS_KEY_ID": s.AccessKeyID, "S3_SECRET_ACCESS_KEY": s.SecretAccessKey})
	})
	t.Run("azure", func(t *testing.T) {
		az := peertest.StartAzurite(t)
		client, err := azblob.NewClientFromConnectionString(az.ConnectionString, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := client.CreateContainer(context.Background(), "pacs", nil); err != nil {
			t.Fatal(err)
		}
		checkExample(t, filepath.Join(examples, "azure.hcl"), "azure", map[string]string{
			"AZURE_STORAGE_CONNECTION_STRING": az.ConnectionString, "AZURE_CONTAINER": "pacs"})
	})
}

// checkExample runs pacs config validate and pacs plugins check on the
// example file with env set (the test executable serves the plugin, as
// pacs does); the plugin of backend name must be up and healthy, and no
// secret of env printed.
func checkExample(t *testing.T, file, name string, env map[string]string) {
	t.Helper()
	env["PACS_DATA_DIR"] = t.TempDir()
	for k, v := range env {
		t.Setenv(k, v)
	}
	if code, out, errOut := runCmd(t, runConfig, "validate", file); code != 0 {
		t.Errorf("pacs config validate %s = %d\n%s%s", file, code, out, errOut)
	}
	code, out, errOut := runCmd(t, runPlugins, "check", "--config", file)
	if code != 0 || !strings.Contains(out, "1 plugin(s) ok") || !strings.Contains(out, "plugin-serve storage-"+name) {
		t.Errorf("pacs plugins check --config %s = %d\nstdout:\n%s\nstderr:\n%s", file, code, out, errOut)
	}
	for k, v := range env {
		if plugin.IsSensitiveName(k) && (strings.Contains(out, v) || strings.Contains(errOut, v)) {
			t.Errorf("pacs plugins check printed %s", k)
		}
	}
}

// runBackendCase runs pacs serve with bc's storage block and checks ingest,
// retrieval, the store's content and pacs verify.
func runBackendCase(t *testing.T, bin string, files []sendable, bc backendCase) {
	start := time.Now()
	destPort, destDir := startDestinationSCP(t)
	dataDir := t.TempDir()
	cfgPath := filepath.Join(t.TempDir(), "pacs.hcl")
	cfg := fmt.Sprintf(`data_dir = %q
dicom {
  listen = "127.0.0.1:%d"
}
http {
  listen = "127.0.0.1:%d"
}
remote "DEST" {
  host = "127.0.0.1"
  port = %d
}
%s`, dataDir, freePort(t), freePort(t), destPort, bc.storage)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	p := startPacs(t, bin, cfgPath)
	port := fmt.Sprint(p.dicomPort)
	defer func() {
		if t.Failed() {
			t.Logf("pacs serve output:\n%s", p.log.String())
		}
	}()

	sendWithStorescu(t, port, files)
	ingested := time.Since(start)

	studies := map[string][]sendable{}
	for _, f := range files {
		study := f.ds.String(dicom.StudyInstanceUID)
		studies[study] = append(studies[study], f)
	}
	for _, study := range sortedStudies(studies) {
		out, err := runPeer(t, "movescu", "-S", "-aet", "MOVESCU", "-aec", "FORGE", "-aem", "DEST",
			"-k", "QueryRetrieveLevel=STUDY", "-k", "StudyInstanceUID="+study, "127.0.0.1", port)
		if err != nil {
			t.Errorf("movescu study %s: %v\n%s", study, err, out)
		}
	}
	got := readReceived(t, destDir)
	compared, converted := 0, 0
	for _, f := range files {
		g, ok := got[f.inst]
		switch {
		case !ok:
			t.Errorf("%s (%s) not retrieved", f.path, f.ts)
			continue
		case g.Syntax.UID != f.ts:
			// storescu sent it converted to the syntax the archive chose
			// among several it proposed: that conversion is not ours.
			converted++
			continue
		}
		if d := diffDatasets(g.Dataset, f.ds, ""); d != "" {
			t.Errorf("%s: retrieved data set differs: %s", f.path, d)
		}
		compared++
	}
	if compared == 0 {
		t.Fatal("no instance retrieved as sent")
	}
	retrieved := time.Since(start)
	p.stop(t)

	// The store holds what the index says, no more, no less.
	want := map[string]int64{}
	ix, err := index.Open(context.Background(), filepath.Join(dataDir, indexFileName), index.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for loc, err := range ix.AllInstances(context.Background()) {
		if err != nil {
			t.Fatal(err)
		}
		want[loc.Key] = loc.Size
	}
	ix.Close()
	if len(want) != len(files) {
		t.Errorf("%d instances indexed, %d sent", len(want), len(files))
	}
	have := bc.objects(t)
	for key, size := range want {
		if s, ok := have[key]; !ok {
			t.Errorf("indexed object %s not in the store", key)
		} else if s != size {
			t.Errorf("object %s: %d bytes in the store, indexed %d", key, s, size)
		}
	}
	for key := range have {
		if _, ok := want[key]; !ok {
			t.Errorf("object %s in the store is not indexed", key)
		}
	}

	for _, args := range [][]string{{"verify", "--config", cfgPath}, {"verify", "--quick", "--config", cfgPath}} {
		out, err := exec.Command(bin, args...).CombinedOutput()
		summary := fmt.Sprintf("%d instances, %d objects checked: 0 missing, 0 size mismatches, 0 checksum mismatches, 0 orphans", len(want), len(want))
		if err != nil || !strings.Contains(string(out), summary) {
			t.Errorf("pacs %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	// Damage the store behind the archive's back: verify, through the
	// plugin, finds the missing object and the orphan.
	var gone string
	for key := range want {
		gone = key
		break
	}
	bc.remove(t, gone)
	bc.put(t, "stray/object.dcm", []byte("stray"))
	out, err := exec.Command(bin, "verify", "--config", cfgPath).CombinedOutput()
	if code := exitCode(err); code != 1 {
		t.Errorf("pacs verify after damage: exit %d (%v), want 1\n%s", code, err, out)
	}
	for _, want := range []string{"missing " + gone, "orphan stray/object.dcm (5 bytes)", "1 missing, 0 size mismatches, 0 checksum mismatches, 1 orphans"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("pacs verify after damage lacks %q:\n%s", want, out)
		}
	}
	t.Logf("%d files sent in %d studies: %d retrieved as sent, %d converted by storescu; %d objects in the store; ingest %v, retrieval %v, total with verify %v",
		len(files), len(studies), compared, converted, len(have), ingested.Round(time.Millisecond),
		(retrieved - ingested).Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
}

// storescuSendable is the sendable corpus in a syntax storescu can propose.
func storescuSendable(t *testing.T) []sendable {
	t.Helper()
	var files []sendable
	for _, f := range sendableCorpus(t) {
		if _, ok := storescuSyntaxOption[f.ts]; ok {
			files = append(files, f)
		}
	}
	return files
}

// sendWithStorescu sends files to the archive at port with storescu,
// grouped by transfer syntax and proposing each group's own first.
func sendWithStorescu(t *testing.T, port string, files []sendable) {
	t.Helper()
	groups := map[string][]sendable{}
	var syntaxes []string
	for _, f := range files {
		if groups[f.ts] == nil {
			syntaxes = append(syntaxes, f.ts)
		}
		groups[f.ts] = append(groups[f.ts], f)
	}
	slices.Sort(syntaxes)
	for _, ts := range syntaxes {
		g := groups[ts]
		for i := 0; i < len(g); i += 20 {
			args := []string{"-R", "-aec", "FORGE"}
			if opt := storescuSyntaxOption[ts]; opt != "" {
				args = append(args, opt)
			}
			args = append(args, "127.0.0.1", port)
			for _, f := range g[i:min(i+20, len(g))] {
				args = append(args, f.path)
			}
			if out, err := runPeer(t, "storescu", args...); err != nil {
				t.Errorf("storescu (%s): %v\n%s", ts, err, out)
			}
		}
	}
}

// exitCode is the exit code of a finished command's error (0 for nil, -1
// when it did not run to an exit).
func exitCode(err error) int {
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.ExitCode()
	}
	return -1
}

// walkObjects lists the regular files under root by their slash-separated
// path, with their sizes.
func walkObjects(t *testing.T, root string) map[string]int64 {
	t.Helper()
	got := map[string]int64{}
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		got[filepath.ToSlash(rel)] = info.Size()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// bucketObjects lists every object of the bucket with its size.
func bucketObjects(t *testing.T, c *s3.Client, bucket string) map[string]int64 {
	t.Helper()
	got := map[string]int64{}
	pages := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range page.Contents {
			got[aws.ToString(o.Key)] = aws.ToInt64(o.Size)
		}
	}
	return got
}

// containerObjects lists every blob of the container with its size.
func containerObjects(t *testing.T, c *azblob.Client, container string) map[string]int64 {
	t.Helper()
	got := map[string]int64{}
	pages := c.NewListBlobsFlatPager(container, nil)
	for pages.More() {
		page, err := pages.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range page.Segment.BlobItems {
			var size int64
			if b.Properties != nil && b.Properties.ContentLength != nil {
				size = *b.Properties.ContentLength
			}
			got[*b.Name] = size
		}
	}
	return got
}
