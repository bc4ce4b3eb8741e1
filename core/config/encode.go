package config

import (
	"strconv"

	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"
)

// Encode writes c as HCL that Parse reads back to the same values. Every
// attribute is written, defaults included. The config {} body of a
// backend other than "fs" belongs to its plugin and is not reproduced: it
// is written as a comment saying so. Values come out evaluated: env()
// calls are gone, so keep the output of a file that uses secrets private.
func Encode(c *Config) []byte {
	f := hclwrite.NewEmptyFile()
	b := f.Body()
	b.SetAttributeValue("data_dir", cty.StringVal(c.DataDir))
	if l := c.Log; l != nil {
		b.AppendNewline()
		lb := b.AppendNewBlock("log", nil).Body()
		lb.SetAttributeValue("level", cty.StringVal(l.Level))
		lb.SetAttributeValue("format", cty.StringVal(l.Format))
	}
	if d := c.DICOM; d != nil {
		b.AppendNewline()
		db := b.AppendNewBlock("dicom", nil).Body()
		db.SetAttributeValue("ae_title", cty.StringVal(d.AETitle))
		db.SetAttributeValue("listen", cty.StringVal(d.Listen))
		db.SetAttributeValue("max_associations", cty.NumberIntVal(int64(d.MaxAssociations)))
		db.SetAttributeValue("max_associations_per_ae", cty.NumberIntVal(int64(d.MaxAssociationsPerAE)))
		db.SetAttributeValue("max_pdu_length", sizeValue(d.MaxPDULength))
		db.SetAttributeValue("async_ops", cty.NumberIntVal(int64(d.AsyncOps)))
		db.SetAttributeValue("association_timeout", cty.StringVal(d.AssociationTimeout))
		db.SetAttributeValue("idle_timeout", cty.StringVal(d.IdleTimeout))
		db.SetAttributeValue("dimse_timeout", cty.StringVal(d.DIMSETimeout))
		db.SetAttributeValue("release_timeout", cty.StringVal(d.ReleaseTimeout))
		db.SetAttributeValue("strict_called_ae", cty.BoolVal(d.StrictCalledAE))
		db.SetAttributeValue("accepted_calling_aes", stringList(d.AcceptedCallingAEs))
		db.SetAttributeValue("sop_classes", stringList(d.SOPClasses))
		db.SetAttributeValue("transfer_syntaxes", stringList(d.TransferSyntaxes))
		db.SetAttributeValue("duplicate_policy", cty.StringVal(d.DuplicatePolicy))
		db.SetAttributeValue("max_find_results", cty.NumberIntVal(int64(d.MaxFindResults)))
		db.SetAttributeValue("case_insensitive_names", cty.BoolVal(d.CaseInsensitiveNames))
	}
	if h := c.HTTP; h != nil {
		b.AppendNewline()
		hb := b.AppendNewBlock("http", nil).Body()
		hb.SetAttributeValue("listen", cty.StringVal(h.Listen))
	}
	for _, s := range c.Storage {
		b.AppendNewline()
		sb := b.AppendNewBlock("storage", []string{s.Name}).Body()
		sb.SetAttributeValue("backend", cty.StringVal(s.Backend))
		if s.After != "" {
			sb.SetAttributeValue("after", cty.StringVal(s.After))
		}
		if s.OutOfProcess {
			sb.SetAttributeValue("out_of_process", cty.True)
		}
		switch {
		case s.FS != nil:
			cb := sb.AppendNewBlock("config", nil).Body()
			if s.FS.Root != "" {
				cb.SetAttributeValue("root", cty.StringVal(s.FS.Root))
			} else {
				appendComment(cb, "# root defaults to data_dir/objects\n")
			}
			cb.SetAttributeValue("layout", cty.StringVal(s.FS.Layout))
		case s.Config != nil:
			cb := sb.AppendNewBlock("config", nil).Body()
			appendComment(cb, "# the settings of backend "+s.Backend+" are not reproduced\n")
		}
	}
	for _, r := range c.Remotes {
		b.AppendNewline()
		rb := b.AppendNewBlock("remote", []string{r.AETitle}).Body()
		rb.SetAttributeValue("host", cty.StringVal(r.Host))
		rb.SetAttributeValue("port", cty.NumberIntVal(int64(r.Port)))
		rb.SetAttributeValue("tls", cty.BoolVal(r.TLS))
		if r.CAFile != "" {
			rb.SetAttributeValue("ca_file", cty.StringVal(r.CAFile))
		}
	}
	encodePlugins(b, c)
	return f.Bytes()
}

// sizeValue is a size as a number when it is a plain number of bytes.
func sizeValue(s string) cty.Value {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil && strconv.FormatInt(n, 10) == s {
		return cty.NumberIntVal(n)
	}
	return cty.StringVal(s)
}

func stringList(ss []string) cty.Value {
	if len(ss) == 0 {
		return cty.ListValEmpty(cty.String)
	}
	vals := make([]cty.Value, len(ss))
	for i, s := range ss {
		vals[i] = cty.StringVal(s)
	}
	return cty.ListVal(vals)
}

func appendComment(b *hclwrite.Body, text string) {
	b.AppendUnstructuredTokens(hclwrite.Tokens{{Type: hclsyntax.TokenComment, Bytes: []byte(text)}})
}
