//go:build !linux

package archive

import "os"

// syncData makes f's data durable: f.Sync here.
func syncData(f *os.File) error { return f.Sync() }
