package sdk

import (
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/gocty"
)

// ConfigSchema is the schema of a kind's config { } body, derived from the
// config struct's tags: the hcldec spec the host decodes the body with and
// the paths of the attributes whose values must never be logged.
type ConfigSchema struct {
	Spec      hcldec.Spec
	Sensitive []string
}

// SensitiveTag is the struct tag that marks a config attribute as a secret
// (`pacs:"sensitive"`): the host never logs its value.
const SensitiveTag = "pacs"

var ctyValueType = reflect.TypeFor[cty.Value]()

// SchemaOf derives the config schema of the struct type C from its fields'
// gohcl-style tags:
//
//	`hcl:"name"` or `hcl:"name,attr"`  a required attribute
//	`hcl:"name,optional"`             an optional attribute
//	`hcl:"name,block"`                a nested block: a struct (required), a
//	                                  pointer to one (optional) or a slice of
//	                                  them (any number)
//
// Attribute types follow gocty (string, bool, numbers, slices as lists, maps
// of string keys, cty.Value as any type). Fields without an hcl tag are
// ignored; labels and remain/body fields are not supported (an error).
// Add `pacs:"sensitive"` to a field to mark it sensitive.
func SchemaOf[C any]() (*ConfigSchema, error) {
	return schemaOfType(reflect.TypeFor[C]())
}

func schemaOfType(t reflect.Type) (*ConfigSchema, error) {
	if t.Kind() != reflect.Struct {
		return nil, fmt.Errorf("config type %s is not a struct", t)
	}
	s := &ConfigSchema{}
	spec, err := objectSpec(t, "", &s.Sensitive)
	if err != nil {
		return nil, fmt.Errorf("config type %s: %w", t, err)
	}
	s.Spec = spec
	return s, nil
}

// hclField is one tagged field of a config struct.
type hclField struct {
	index     int
	name      string
	kind      string // "attr", "optional", "block"
	sensitive bool
}

func hclFields(t reflect.Type) ([]hclField, error) {
	var fields []hclField
	for i := range t.NumField() {
		f := t.Field(i)
		tag, ok := f.Tag.Lookup("hcl")
		if !ok || !f.IsExported() {
			continue
		}
		name, kind, _ := strings.Cut(tag, ",")
		if kind == "" {
			kind = "attr"
		}
		switch kind {
		case "attr", "optional", "block":
		default:
			return nil, fmt.Errorf("field %s: hcl tag kind %q is not supported", f.Name, kind)
		}
		if name == "" {
			return nil, fmt.Errorf("field %s: hcl tag has no name", f.Name)
		}
		fields = append(fields, hclField{index: i, name: name, kind: kind,
			sensitive: f.Tag.Get(SensitiveTag) == "sensitive"})
	}
	return fields, nil
}

func objectSpec(t reflect.Type, prefix string, sensitive *[]string) (hcldec.ObjectSpec, error) {
	fields, err := hclFields(t)
	if err != nil {
		return nil, err
	}
	spec := hcldec.ObjectSpec{}
	for _, f := range fields {
		ft := t.Field(f.index).Type
		path := prefix + f.name
		if f.sensitive {
			*sensitive = append(*sensitive, path)
		}
		if f.kind != "block" {
			ty, err := attrType(ft)
			if err != nil {
				return nil, fmt.Errorf("attribute %s: %w", path, err)
			}
			spec[f.name] = &hcldec.AttrSpec{Name: f.name, Type: ty, Required: f.kind == "attr"}
			continue
		}
		bt, wrap := blockElem(ft)
		if bt == nil {
			return nil, fmt.Errorf("block %s: type %s is not a struct, pointer to struct or slice of them", path, ft)
		}
		nested, err := objectSpec(bt, path+".", sensitive)
		if err != nil {
			return nil, err
		}
		switch wrap {
		case reflect.Slice:
			spec[f.name] = &hcldec.BlockListSpec{TypeName: f.name, Nested: nested}
		case reflect.Pointer:
			spec[f.name] = &hcldec.BlockSpec{TypeName: f.name, Nested: nested}
		default:
			spec[f.name] = &hcldec.BlockSpec{TypeName: f.name, Nested: nested, Required: true}
		}
	}
	return spec, nil
}

// blockElem returns the struct type of a block field and how it is held
// (reflect.Struct, reflect.Pointer or reflect.Slice), or nil.
func blockElem(t reflect.Type) (reflect.Type, reflect.Kind) {
	wrap := reflect.Struct
	switch t.Kind() {
	case reflect.Pointer:
		wrap, t = reflect.Pointer, t.Elem()
	case reflect.Slice:
		wrap, t = reflect.Slice, t.Elem()
		if t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
	}
	if t.Kind() != reflect.Struct || t == ctyValueType {
		return nil, 0
	}
	return t, wrap
}

func attrType(t reflect.Type) (ty cty.Type, err error) {
	if t == ctyValueType {
		return cty.DynamicPseudoType, nil
	}
	defer func() {
		if r := recover(); r != nil { // gocty panics on some exotic types
			err = fmt.Errorf("type %s has no cty equivalent", t)
		}
	}()
	ty, err = gocty.ImpliedType(reflect.Zero(t).Interface())
	if err != nil {
		return cty.NilType, fmt.Errorf("type %s: %w", t, err)
	}
	return ty, nil
}

// DecodeConfig stores the decoded config value val (an object of the type
// SchemaOf's spec implies) into *dst, a pointer to the config struct.
// Null attributes and absent blocks leave the field's zero value. A value
// that does not fit a field is a *ConfigError at that attribute's path.
func DecodeConfig(val cty.Value, dst any) error {
	rv := reflect.ValueOf(dst)
	if rv.Kind() != reflect.Pointer || rv.IsNil() || rv.Elem().Kind() != reflect.Struct {
		return fmt.Errorf("decode config into %T: not a pointer to a struct", dst)
	}
	if val.IsNull() {
		return nil
	}
	if !val.IsWhollyKnown() {
		return &ConfigError{Message: "the configuration has unknown values"}
	}
	return decodeObject(val, rv.Elem(), "")
}

func decodeObject(val cty.Value, dst reflect.Value, prefix string) error {
	if !val.Type().IsObjectType() {
		return &ConfigError{Path: strings.TrimSuffix(prefix, "."), Message: "expected an object, got " + val.Type().FriendlyName()}
	}
	fields, err := hclFields(dst.Type())
	if err != nil {
		return err
	}
	for _, f := range fields {
		path := prefix + f.name
		if !val.Type().HasAttribute(f.name) {
			continue
		}
		v := val.GetAttr(f.name)
		if v.IsNull() {
			continue
		}
		fv := dst.Field(f.index)
		if f.kind != "block" {
			if fv.Type() == ctyValueType {
				fv.Set(reflect.ValueOf(v))
				continue
			}
			if err := gocty.FromCtyValue(v, fv.Addr().Interface()); err != nil {
				return &ConfigError{Path: path, Message: ctyMessage(err)}
			}
			continue
		}
		if err := decodeBlock(v, fv, path); err != nil {
			return err
		}
	}
	return nil
}

func decodeBlock(v cty.Value, fv reflect.Value, path string) error {
	switch fv.Kind() {
	case reflect.Struct:
		return decodeObject(v, fv, path+".")
	case reflect.Pointer:
		p := reflect.New(fv.Type().Elem())
		if err := decodeObject(v, p.Elem(), path+"."); err != nil {
			return err
		}
		fv.Set(p)
		return nil
	case reflect.Slice:
		if !v.CanIterateElements() {
			return &ConfigError{Path: path, Message: "expected a list of blocks"}
		}
		et := fv.Type().Elem()
		out := reflect.MakeSlice(fv.Type(), 0, v.LengthInt())
		i := 0
		for it := v.ElementIterator(); it.Next(); i++ {
			_, ev := it.Element()
			elemPath := fmt.Sprintf("%s[%d].", path, i)
			if et.Kind() == reflect.Pointer {
				p := reflect.New(et.Elem())
				if err := decodeObject(ev, p.Elem(), elemPath); err != nil {
					return err
				}
				out = reflect.Append(out, p)
				continue
			}
			e := reflect.New(et).Elem()
			if err := decodeObject(ev, e, elemPath); err != nil {
				return err
			}
			out = reflect.Append(out, e)
		}
		fv.Set(out)
		return nil
	}
	return &ConfigError{Path: path, Message: "unsupported block field"}
}

func ctyMessage(err error) string {
	var pe cty.PathError
	if errors.As(err, &pe) {
		return pe.Error()
	}
	return err.Error()
}

// impliedType is the cty type of the values the schema decodes to.
func (s *ConfigSchema) impliedType() cty.Type { return hcldec.ImpliedType(s.Spec) }
