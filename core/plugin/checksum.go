package plugin

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	goplugin "github.com/hashicorp/go-plugin"

	"github.com/pacsforge/pacs/core/config"
)

// ErrChecksumMismatch: the executable's SHA-256 is not the pinned one; it
// was not started.
var ErrChecksumMismatch = errors.New("plugin executable does not match its pinned sha256")

// FileSHA256 returns the SHA-256 of the file at path in lower-case hex.
func FileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("read %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// secureConfig returns go-plugin's check of the pinned digest of s (nil
// for a self-served plugin), or an error for a malformed digest.
func secureConfig(s *Spec) (*goplugin.SecureConfig, error) {
	if s.SelfServed && s.SHA256 == "" {
		return nil, nil
	}
	sum, err := hex.DecodeString(s.SHA256)
	if err != nil || len(sum) != sha256.Size {
		return nil, fmt.Errorf("plugin %s: sha256 %q is not 64 hexadecimal digits", s.Name, s.SHA256)
	}
	return &goplugin.SecureConfig{Checksum: sum, Hash: sha256.New()}, nil
}

// verify checks the executable of s against its pinned digest, so that a
// mismatch is reported with both digests before go-plugin refuses it.
func verify(s *Spec) error {
	if s.SelfServed && s.SHA256 == "" {
		return nil
	}
	got, err := FileSHA256(s.Path)
	if err != nil {
		return fmt.Errorf("plugin %s: %w", s.Name, err)
	}
	if !strings.EqualFold(got, s.SHA256) {
		return fmt.Errorf("plugin %s: %w: %s has sha256 %s, the configuration pins %s", s.Name, ErrChecksumMismatch, s.Path, got, strings.ToLower(s.SHA256))
	}
	return nil
}

// Discovered is an executable found in a plugin directory.
type Discovered struct {
	// Name is the file name without the pacs-plugin- prefix; Path the file.
	Name, Path string
	// SHA256 is the file's digest in hex ("" when it could not be read,
	// with Err saying why).
	SHA256 string
	Err    error
}

// Discover lists the executables named pacs-plugin-* in dir, by name,
// with their digests. A missing dir is an error; an unreadable file is
// listed with its Err.
func Discover(dir string) ([]Discovered, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []Discovered
	for _, e := range entries {
		name := e.Name()
		if !strings.HasPrefix(name, config.PluginExecutablePrefix) || len(name) == len(config.PluginExecutablePrefix) || e.IsDir() {
			continue
		}
		info, err := e.Info()
		if err != nil || !info.Mode().IsRegular() || info.Mode().Perm()&0o111 == 0 {
			continue
		}
		d := Discovered{Name: strings.TrimPrefix(name, config.PluginExecutablePrefix), Path: filepath.Join(dir, name)}
		d.SHA256, d.Err = FileSHA256(d.Path)
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}
