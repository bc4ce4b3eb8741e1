// Package archtest holds a test that fails when a package imports across the
// layers of the design (imports point down only: cmd → core/server → core/* →
// core/dicom; sdk and plugins never import core beyond core/dicom).
package archtest
