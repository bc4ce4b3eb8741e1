package rpc

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/msgpack"

	"github.com/pacsforge/pacs/sdk/proto/pluginv1"
)

// maxSpecDepth bounds the nesting of a config spec received from a plugin.
const maxSpecDepth = 32

// specFromProto decodes a plugin's config spec.
func specFromProto(p *pluginv1.Spec) (hcldec.Spec, error) {
	return specFromProtoDepth(p, 0)
}

func specFromProtoDepth(p *pluginv1.Spec, depth int) (hcldec.Spec, error) {
	if p == nil {
		return nil, errors.New("missing spec")
	}
	if depth > maxSpecDepth {
		return nil, errors.New("spec nested too deeply")
	}
	nested := func(n *pluginv1.Spec) (hcldec.Spec, error) { return specFromProtoDepth(n, depth+1) }
	switch b := p.GetBlock().(type) {
	case *pluginv1.Spec_Object:
		o := hcldec.ObjectSpec{}
		for k, v := range b.Object.GetAttributes() {
			s, err := nested(v)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			o[k] = s
		}
		return o, nil
	case *pluginv1.Spec_Attr:
		var ty cty.Type
		if err := ty.UnmarshalJSON(b.Attr.GetType()); err != nil {
			return nil, fmt.Errorf("attribute %s: type: %w", b.Attr.GetName(), err)
		}
		return &hcldec.AttrSpec{Name: b.Attr.GetName(), Type: ty, Required: b.Attr.GetRequired()}, nil
	case *pluginv1.Spec_BlockValue:
		n, err := nested(b.BlockValue.GetNested())
		if err != nil {
			return nil, fmt.Errorf("block %s: %w", b.BlockValue.GetName(), err)
		}
		return &hcldec.BlockSpec{TypeName: b.BlockValue.GetName(), Required: b.BlockValue.GetRequired(), Nested: n}, nil
	case *pluginv1.Spec_BlockList:
		n, err := nested(b.BlockList.GetNested())
		if err != nil {
			return nil, fmt.Errorf("block %s: %w", b.BlockList.GetName(), err)
		}
		return &hcldec.BlockListSpec{TypeName: b.BlockList.GetName(), Nested: n,
			MinItems: int(b.BlockList.GetMinItems()), MaxItems: int(b.BlockList.GetMaxItems())}, nil
	case *pluginv1.Spec_BlockSet:
		n, err := nested(b.BlockSet.GetNested())
		if err != nil {
			return nil, fmt.Errorf("block %s: %w", b.BlockSet.GetName(), err)
		}
		return &hcldec.BlockSetSpec{TypeName: b.BlockSet.GetName(), Nested: n,
			MinItems: int(b.BlockSet.GetMinItems()), MaxItems: int(b.BlockSet.GetMaxItems())}, nil
	case *pluginv1.Spec_BlockMap:
		n, err := nested(b.BlockMap.GetNested())
		if err != nil {
			return nil, fmt.Errorf("block %s: %w", b.BlockMap.GetName(), err)
		}
		return &hcldec.BlockMapSpec{TypeName: b.BlockMap.GetName(), LabelNames: b.BlockMap.GetLabels(), Nested: n}, nil
	case *pluginv1.Spec_Default:
		pr, err := nested(b.Default.GetPrimary())
		if err != nil {
			return nil, err
		}
		d, err := nested(b.Default.GetDefault())
		if err != nil {
			return nil, err
		}
		return &hcldec.DefaultSpec{Primary: pr, Default: d}, nil
	case *pluginv1.Spec_Literal:
		var ty cty.Type
		if err := ty.UnmarshalJSON(b.Literal.GetType()); err != nil {
			return nil, fmt.Errorf("literal type: %w", err)
		}
		v, err := msgpack.Unmarshal(b.Literal.GetValue(), ty)
		if err != nil {
			return nil, fmt.Errorf("literal value: %w", err)
		}
		return &hcldec.LiteralSpec{Value: v}, nil
	}
	return nil, fmt.Errorf("unknown spec %T", p.GetBlock())
}

// DecodeConfig decodes a plugin instance's config { } body (nil: no body)
// with the kind's spec, evaluating expressions (env()) in ectx. The value
// is what Configure takes.
func DecodeConfig(body hcl.Body, spec hcldec.Spec, ectx *hcl.EvalContext) (cty.Value, hcl.Diagnostics) {
	if body == nil {
		body = hcl.EmptyBody()
	}
	return hcldec.Decode(body, spec, ectx)
}

// ConfigRange returns the source range, in body, of the attribute or
// block that a *sdk.ConfigError's Path names ("attr", "block.attr",
// "block[1].attr"): the attribute's expression, or the block's header.
// A path that is not in the body (an attribute left out) gives the range
// where it is missing: the enclosing block's end.
func ConfigRange(body hcl.Body, path string) hcl.Range {
	if body == nil {
		return hcl.Range{}
	}
	if path == "" {
		return body.MissingItemRange()
	}
	name, rest, _ := strings.Cut(path, ".")
	index := 0
	if i := strings.IndexByte(name, '['); i > 0 && strings.HasSuffix(name, "]") {
		n, err := strconv.Atoi(name[i+1 : len(name)-1])
		if err == nil && n >= 0 {
			index = n
		}
		name = name[:i]
	}
	content, _, _ := body.PartialContent(&hcl.BodySchema{
		Attributes: []hcl.AttributeSchema{{Name: name}},
		Blocks:     []hcl.BlockHeaderSchema{{Type: name}},
	})
	if content == nil {
		return body.MissingItemRange()
	}
	if a, ok := content.Attributes[name]; ok {
		return a.Expr.Range()
	}
	var blocks []*hcl.Block
	for _, b := range content.Blocks {
		if b.Type == name {
			blocks = append(blocks, b)
		}
	}
	if index >= len(blocks) {
		return body.MissingItemRange()
	}
	if rest == "" {
		return blocks[index].DefRange
	}
	return ConfigRange(blocks[index].Body, rest)
}

// ConfigDiagnostics turns the *sdk.ConfigError values of a Configure error
// into diagnostics at their place in body, for the host to report with
// file:line. It returns nil when err holds no ConfigError.
func ConfigDiagnostics(body hcl.Body, err error) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, ce := range ConfigErrors(err) {
		rng := ConfigRange(body, ce.Path)
		summary := "Invalid plugin configuration"
		if ce.Path != "" {
			summary = fmt.Sprintf("Invalid value for %q", ce.Path)
		}
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary, Detail: ce.Message, Subject: &rng})
	}
	return diags
}

// Redacted returns val with the attributes at the schema's sensitive
// paths replaced by "(sensitive)", for logging.
func Redacted(val cty.Value, sensitive []string) (out cty.Value) {
	if len(sensitive) == 0 || val.IsNull() || !val.IsKnown() {
		return val
	}
	set := map[string]bool{}
	for _, p := range sensitive {
		set[p] = true
	}
	defer func() {
		if recover() != nil { // a set whose elements would change type
			out = cty.DynamicVal
		}
	}()
	out, _ = cty.Transform(val, func(p cty.Path, v cty.Value) (cty.Value, error) {
		if set[pathString(p)] && !v.IsNull() {
			return cty.StringVal("(sensitive)"), nil
		}
		return v, nil
	})
	return out
}

// pathString renders a cty path as the schema's attribute path, block
// list indexes left out ("block.attr").
func pathString(p cty.Path) string {
	var parts []string
	for _, s := range p {
		if a, ok := s.(cty.GetAttrStep); ok {
			parts = append(parts, a.Name)
		}
	}
	return strings.Join(parts, ".")
}
