// Package dump prints a data set as text in the layout of DCMTK's dcmdump: one
// line per element with tag, VR, value, length, value multiplicity and keyword,
// nested items indented by two spaces per level.
package dump
