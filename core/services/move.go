package services

import (
	"context"
	"errors"
	"io"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/pacsforge/pacs/core/dicom"
	"github.com/pacsforge/pacs/core/dicom/codec"
	"github.com/pacsforge/pacs/core/dimse"
	"github.com/pacsforge/pacs/core/index"
	"github.com/pacsforge/pacs/core/ul"
)

// Limits of the association a C-MOVE opens to its destination.
const (
	// MoveConnectTimeout bounds the TCP connection to the destination.
	MoveConnectTimeout = 10 * time.Second
	// MoveAssociateTimeout bounds the association negotiation.
	MoveAssociateTimeout = 30 * time.Second
	// maxMoveContexts is the most presentation contexts one association
	// can propose (odd IDs 1 to 255).
	maxMoveContexts = 128
)

// remote returns the known peer with AE title ae.
func (r *retriever) remote(ae string) (Remote, bool) {
	ae = strings.TrimSpace(ae)
	for _, rm := range r.o.Remotes {
		if rm.AETitle == ae {
			return rm, true
		}
	}
	return Remote{}, false
}

// moveHandler returns the C-MOVE SCP of the model root (PS3.4 C.4.2): the
// matched instances are sent with C-STORE on an association the archive
// opens to the destination, a known remote.
func (r *retriever) moveHandler(root index.Root) dimse.MoveHandler {
	return func(ctx context.Context, op *dimse.Op, rq *dimse.CMoveRequest, id *dicom.Dataset, w *dimse.SubOpWriter) (dimse.Status, dimse.SubOperations) {
		log := r.log.With("assoc", op.AssociationID, "calling_ae", op.CallingAE)
		dest, ok := r.remote(rq.MoveDestination)
		if !ok {
			log.Warn("move to an unknown destination", "destination", rq.MoveDestination)
			return dimse.StatusMoveDestinationUnknown.WithComment("Move destination unknown"), dimse.SubOperations{}
		}
		locs, st, ok := r.resolve(ctx, root, id)
		if !ok {
			return st, dimse.SubOperations{}
		}
		log.Debug("move", "destination", dest.AETitle, "instances", len(locs))
		if len(locs) == 0 {
			return dimse.StatusSuccess, dimse.SubOperations{}
		}
		addr := net.JoinHostPort(dest.Host, strconv.Itoa(dest.Port))
		a, err := ul.Dial(ctx, "tcp", addr, ul.DialOptions{
			CallingAE: r.o.AETitle, CalledAE: dest.AETitle, Contexts: moveContexts(locs),
			ConnectTimeout: MoveConnectTimeout, AssociateTimeout: MoveAssociateTimeout, Logger: r.o.Logger.Named("move"),
			TLS: dest.TLS,
		})
		if err != nil {
			log.Warn("cannot open an association to the move destination", "destination", dest.AETitle, "peer", addr, "error", err)
			p := &progress{total: len(locs)}
			for _, l := range locs {
				p.fail(l.SOPInstanceUID)
			}
			_, n := r.final(w, p, nil)
			comment := "cannot connect to move destination"
			if errors.Is(err, ul.ErrRejected) {
				comment = "move destination rejected the association"
			}
			return dimse.Status{Code: dimse.CodeOutOfResourcesSubOps, ErrorComment: comment}, n
		}
		c := dimse.NewClient(a, dimse.ClientOptions{Logger: r.o.Logger.Named("move"), ResponseTimeout: r.o.DIMSETimeout})
		var silent atomic.Bool // the destination did not answer in time
		defer func() {
			if silent.Load() {
				// The association was aborted; the wait for the
				// destination to close its end, up to the ARTIM timeout,
				// need not hold the final response back.
				go c.Close()
				return
			}
			c.Close()
		}()
		contexts := a.Contexts()
		opt := dimse.StoreOptions{MoveOriginatorAETitle: op.CallingAE, MoveOriginatorMessageID: op.MessageID}
		store := func(ctx context.Context, sopClass, sopInstance, ts string, data io.Reader) (dimse.Status, error) {
			st, err := c.Store(ctx, sopClass, sopInstance, ts, data, opt)
			if errors.Is(err, dimse.ErrResponseTimeout) {
				silent.Store(true)
			}
			return st, err
		}
		return r.run(ctx, w, locs, func(ctx context.Context, loc index.Location) dimse.Status {
			select {
			case <-c.Done():
				return dimse.StatusProcessingFailure // the destination ended the association
			default:
			}
			return r.sendInstance(ctx, loc, contexts, store)
		})
	}
}

// moveContexts returns the contexts proposed to a C-MOVE destination for
// locs. For each SOP class: one context per syntax its instances are stored
// in, proposing that syntax only, so that the destination's preferences
// cannot make us convert an object it would accept as stored; and, when
// some of its instances are stored uncompressed, a fallback context
// proposing Explicit and Implicit VR Little Endian, into which they are
// converted when the destination accepts none of their stored syntaxes
// (encapsulated objects are sent as stored or not at all). The contexts of
// uncompressed syntaxes come first; beyond maxMoveContexts the last are
// left out (their instances fail).
func moveContexts(locs []index.Location) []ul.ProposedContext {
	type class struct {
		uid           string
		native, encap []string
	}
	var classes []*class
	byUID := map[string]*class{}
	for _, l := range locs {
		c := byUID[l.SOPClassUID]
		if c == nil {
			c = &class{uid: l.SOPClassUID}
			byUID[l.SOPClassUID] = c
			classes = append(classes, c)
		}
		ts := l.TransferSyntaxUID
		s, ok := codec.LookupSyntax(ts)
		switch {
		case !ok:
		case s.Encapsulated && !slices.Contains(c.encap, ts):
			c.encap = append(c.encap, ts)
		case !s.Encapsulated && !slices.Contains(c.native, ts):
			c.native = append(c.native, ts)
		}
	}
	var pcs []ul.ProposedContext
	for _, c := range classes {
		for _, ts := range c.native {
			pcs = append(pcs, ul.ProposedContext{AbstractSyntax: c.uid, TransferSyntaxes: []string{ts}})
		}
		if len(c.native) > 0 && !slices.Equal(c.native, nativePreference) && !slices.Equal(c.native, []string{nativePreference[1], nativePreference[0]}) {
			pcs = append(pcs, ul.ProposedContext{AbstractSyntax: c.uid, TransferSyntaxes: nativePreference})
		}
	}
	for _, c := range classes {
		for _, ts := range c.encap {
			pcs = append(pcs, ul.ProposedContext{AbstractSyntax: c.uid, TransferSyntaxes: []string{ts}})
		}
	}
	if len(pcs) > maxMoveContexts {
		pcs = pcs[:maxMoveContexts]
	}
	return pcs
}
