package config

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
)

// evalContext is the explicit evaluation context of a site file: no
// variables; env and three pure string functions. lookupEnv is
// os.LookupEnv outside tests.
func evalContext(lookupEnv func(string) (string, bool)) *hcl.EvalContext {
	return &hcl.EvalContext{
		Functions: map[string]function.Function{
			"env":       envFunc(lookupEnv),
			"lower":     stdlib.LowerFunc,
			"upper":     stdlib.UpperFunc,
			"trimspace": stdlib.TrimSpaceFunc,
		},
	}
}

// envFunc is env(name) or env(name, fallback): the value of an environment
// variable; when it is unset, fallback, or an error without one. A set but
// empty variable is the empty string.
func envFunc(lookupEnv func(string) (string, bool)) function.Function {
	return function.New(&function.Spec{
		Description: "The value of an environment variable; an error when it is unset and no fallback is given.",
		Params:      []function.Parameter{{Name: "name", Type: cty.String}},
		VarParam:    &function.Parameter{Name: "fallback", Type: cty.String},
		Type:        function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			if len(args) > 2 {
				return cty.UnknownVal(cty.String), function.NewArgErrorf(2, "env takes a name and at most one fallback")
			}
			name := args[0].AsString()
			if v, ok := lookupEnv(name); ok {
				return cty.StringVal(v), nil
			}
			if len(args) == 2 {
				return args[1], nil
			}
			return cty.UnknownVal(cty.String), function.NewArgError(0, fmt.Errorf("environment variable %s is not set (give a fallback: env(%q, \"value\"))", name, name))
		},
	})
}
