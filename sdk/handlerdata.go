package sdk

import "github.com/pacsforge/pacs/core/dicom"

// HeaderThreshold is the largest value kept by Header: longer values are
// bulk data, left out of what a HeaderOnly SOP handler receives.
const HeaderThreshold = 64 << 10

// Header returns what a header-mode SOP handler receives of ds: its
// elements without Pixel Data (and Float/Double Float Pixel Data) and
// without values longer than HeaderThreshold, in sequence items too. The
// kept elements share their values with ds.
func Header(ds *dicom.Dataset) *dicom.Dataset {
	if ds == nil {
		return nil
	}
	out := dicom.NewDataset(ds.Len())
	out.Codec = ds.Codec
	for e := range ds.All() {
		switch {
		case e.Tag == dicom.PixelData || e.Tag == dicom.FloatPixelData || e.Tag == dicom.DoubleFloatPixelData:
			continue
		case e.Fragments != nil || e.Bulk != nil || len(e.Value) > HeaderThreshold:
			continue
		}
		ne := *e
		if e.Items != nil {
			ne.Items = make([]*dicom.Dataset, len(e.Items))
			for i, it := range e.Items {
				ne.Items[i] = Header(it)
			}
		}
		out.Append(ne)
	}
	return out
}

// Select returns the elements of ds with the given top-level tags, what an
// attributes-mode SOP handler receives (SOPHandlerSpec.Attributes), bulk values included.
func Select(ds *dicom.Dataset, tags []dicom.Tag) *dicom.Dataset {
	if ds == nil {
		return nil
	}
	out := dicom.NewDataset(len(tags) + 1)
	out.Codec = ds.Codec
	if e := ds.Get(dicom.SpecificCharacterSet); e != nil {
		out.Put(*e)
	}
	for _, t := range tags {
		if e := ds.Get(t); e != nil {
			out.Put(*e)
		}
	}
	return out
}
