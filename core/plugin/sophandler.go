package plugin

import (
	"context"
	"fmt"

	"github.com/pacsforge/pacs/sdk"
)

// SOPHandler returns the handler of the sop_handler instance name, whose
// calls go through the plugin's supervision (deadline, concurrency cap,
// failure at once while the plugin is down), and a function returning what
// the plugin declares it handles and receives (sdk.HeaderOnly for every SOP
// class until the plugin has started once).
func (m *Manager) SOPHandler(name string) (sdk.SOPHandler, func() sdk.SOPHandlerSpec, error) {
	s := m.handler[name]
	if s == nil {
		return nil, nil, fmt.Errorf("no plugin serves sop_handler %q", name)
	}
	h := &sopHandler{s: s, instance: name}
	return h, h.spec, nil
}

// sopHandler calls a plugin's SOP handler instance.
type sopHandler struct {
	s        *supervisor
	instance string
}

// Handle asks the plugin for its decision.
func (h *sopHandler) Handle(ctx context.Context, req *sdk.StoreRequest) (*sdk.Decision, error) {
	var d *sdk.Decision
	err := h.s.do(ctx, h.s.timeout, func(ctx context.Context, cl client) error {
		var err error
		d, err = cl.SOPHandler(h.instance).Handle(ctx, req)
		return err
	})
	return d, err
}

// spec returns the plugin's last declared SOP handler spec.
func (h *sopHandler) spec() sdk.SOPHandlerSpec {
	h.s.mu.Lock()
	defer h.s.mu.Unlock()
	if h.s.info.SOPHandlerSpec == nil {
		return sdk.SOPHandlerSpec{}
	}
	return *h.s.info.SOPHandlerSpec
}
