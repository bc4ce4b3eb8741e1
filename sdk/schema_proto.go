package sdk

import (
	"fmt"

	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/zclconf/go-cty/cty/msgpack"

	"github.com/pacsforge/pacs/sdk/proto/pluginv1"
)

// specToProto encodes an hcldec spec for GetConfigSchema (the host decodes
// it with sdk/rpc). Only the spec kinds below travel.
func specToProto(s hcldec.Spec) (*pluginv1.Spec, error) {
	switch s := s.(type) {
	case hcldec.ObjectSpec:
		o := &pluginv1.Object{Attributes: make(map[string]*pluginv1.Spec, len(s))}
		for k, v := range s {
			p, err := specToProto(v)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			o.Attributes[k] = p
		}
		return &pluginv1.Spec{Block: &pluginv1.Spec_Object{Object: o}}, nil
	case *hcldec.AttrSpec:
		ty, err := s.Type.MarshalJSON()
		if err != nil {
			return nil, err
		}
		return &pluginv1.Spec{Block: &pluginv1.Spec_Attr{Attr: &pluginv1.Attr{Name: s.Name, Type: ty, Required: s.Required}}}, nil
	case *hcldec.BlockSpec:
		n, err := specToProto(s.Nested)
		if err != nil {
			return nil, err
		}
		return &pluginv1.Spec{Block: &pluginv1.Spec_BlockValue{BlockValue: &pluginv1.Block{Name: s.TypeName, Required: s.Required, Nested: n}}}, nil
	case *hcldec.BlockListSpec:
		n, err := specToProto(s.Nested)
		if err != nil {
			return nil, err
		}
		return &pluginv1.Spec{Block: &pluginv1.Spec_BlockList{BlockList: &pluginv1.BlockList{Name: s.TypeName,
			MinItems: uint64(s.MinItems), MaxItems: uint64(s.MaxItems), Nested: n}}}, nil
	case *hcldec.BlockSetSpec:
		n, err := specToProto(s.Nested)
		if err != nil {
			return nil, err
		}
		return &pluginv1.Spec{Block: &pluginv1.Spec_BlockSet{BlockSet: &pluginv1.BlockSet{Name: s.TypeName,
			MinItems: uint64(s.MinItems), MaxItems: uint64(s.MaxItems), Nested: n}}}, nil
	case *hcldec.BlockMapSpec:
		n, err := specToProto(s.Nested)
		if err != nil {
			return nil, err
		}
		return &pluginv1.Spec{Block: &pluginv1.Spec_BlockMap{BlockMap: &pluginv1.BlockMap{Name: s.TypeName, Labels: s.LabelNames, Nested: n}}}, nil
	case *hcldec.DefaultSpec:
		p, err := specToProto(s.Primary)
		if err != nil {
			return nil, err
		}
		d, err := specToProto(s.Default)
		if err != nil {
			return nil, err
		}
		return &pluginv1.Spec{Block: &pluginv1.Spec_Default{Default: &pluginv1.Default{Primary: p, Default: d}}}, nil
	case *hcldec.LiteralSpec:
		ty, err := s.Value.Type().MarshalJSON()
		if err != nil {
			return nil, err
		}
		v, err := msgpack.Marshal(s.Value, s.Value.Type())
		if err != nil {
			return nil, err
		}
		return &pluginv1.Spec{Block: &pluginv1.Spec_Literal{Literal: &pluginv1.Literal{Type: ty, Value: v}}}, nil
	}
	return nil, fmt.Errorf("spec %T cannot be sent", s)
}
