package ul

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"slices"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/pacsforge/pacs/core/dicom/uid"
)

// ProposedContext is a presentation context the requestor proposes.
type ProposedContext struct {
	// ID is the odd context ID; 0 assigns the next free odd ID.
	ID               byte
	AbstractSyntax   string
	TransferSyntaxes []string // in order of preference
	// SCURole and SCPRole, when either is set, propose SCP/SCU role
	// selection for the abstract syntax (PS3.7 D.3.3.4); an unset one is
	// proposed with its default (SCU true, SCP false).
	SCURole, SCPRole *bool
}

// DialOptions configures Dial. Zero values are documented per field.
type DialOptions struct {
	CallingAE, CalledAE string
	Contexts            []ProposedContext
	// MaxPDULength is our maximum P-DATA-TF length (0: DefaultMaxPDULength).
	MaxPDULength uint32
	// AsyncOps proposes an asynchronous operations window; nil proposes none.
	AsyncOps *AsyncOps
	// UserIdentity proposes a user identity (PS3.7 D.3.3.7); nil none.
	UserIdentity *UserIdentity
	// ExtendedNegotiation and CommonExtended are sent as user information sub-items.
	ExtendedNegotiation []ExtendedNegotiation
	CommonExtended      []CommonExtendedNegotiation
	// ImplementationClassUID and ImplementationVersionName identify this
	// side (empty: uid.ImplementationClassUID, uid.ImplementationVersionName).
	ImplementationClassUID, ImplementationVersionName string
	// ConnectTimeout bounds the TCP (and TLS) connection (0: only ctx).
	ConnectTimeout time.Duration
	// AssociateTimeout bounds the wait for A-ASSOCIATE-AC/RJ and, as the
	// ARTIM timer, for the peer to close after a final A-ABORT (0:
	// DefaultAssociateTimeout).
	AssociateTimeout time.Duration
	// IdleTimeout aborts the association when no PDU arrives in ReadPDV, or
	// none can be sent, for this long (0: none).
	IdleTimeout time.Duration
	// Dialer, when set, makes the connection (its Timeout is overridden by
	// ConnectTimeout when that is set).
	Dialer *net.Dialer
	// TLS, when set, wraps the connection in TLS.
	TLS *tls.Config
	// Logger receives the association's logs (nil: discarded).
	Logger hclog.Logger
}

// Dial opens a connection to addr and requests an association (PS3.8 AE-1,
// AE-2). It returns the established association, a *RejectError
// (errors.Is ErrRejected) on A-ASSOCIATE-RJ, an *AbortError when the peer
// aborted or sent an invalid reply, or the connection's error. ctx bounds
// the whole negotiation, not the association's life.
func Dial(ctx context.Context, network, addr string, opt DialOptions) (*Association, error) {
	rq, err := opt.request()
	if err != nil {
		return nil, err
	}
	d := net.Dialer{}
	if opt.Dialer != nil {
		d = *opt.Dialer
	}
	if opt.ConnectTimeout > 0 {
		d.Timeout = opt.ConnectTimeout
	}
	var conn net.Conn
	if opt.TLS != nil {
		td := tls.Dialer{NetDialer: &d, Config: opt.TLS}
		conn, err = td.DialContext(ctx, network, addr)
	} else {
		conn, err = d.DialContext(ctx, network, addr)
	}
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", addr, err)
	}
	log := opt.Logger
	if log == nil {
		log = hclog.NewNullLogger()
	}
	a := newAssociation(conn, true, log.Named("ul"), opt.AssociateTimeout, opt.IdleTimeout)
	a.callingAE, a.calledAE = rq.CallingAE, rq.CalledAE
	a.ourMax = rq.UserInfo.MaxLength
	a.identity = opt.UserIdentity
	a.setState(sta4) // Evt1: AE-1
	if err := a.request(ctx, rq); err != nil {
		return nil, err
	}
	return a, nil
}

// request builds the A-ASSOCIATE-RQ.
func (opt *DialOptions) request() (*AssociateRQ, error) {
	ui := UserInfo{
		MaxLength:                 opt.MaxPDULength,
		ImplementationClassUID:    opt.ImplementationClassUID,
		ImplementationVersionName: opt.ImplementationVersionName,
		AsyncOps:                  opt.AsyncOps,
		UserIdentity:              opt.UserIdentity,
		Extended:                  opt.ExtendedNegotiation,
		CommonExtended:            opt.CommonExtended,
	}
	if ui.MaxLength == 0 {
		ui.MaxLength = DefaultMaxPDULength
	}
	if ui.ImplementationClassUID == "" {
		ui.ImplementationClassUID = uid.ImplementationClassUID
	}
	if ui.ImplementationVersionName == "" {
		ui.ImplementationVersionName = uid.ImplementationVersionName
	}
	if len(opt.Contexts) == 0 {
		return nil, errors.New("dial: no presentation context proposed")
	}
	rq := &AssociateRQ{ProtocolVersion: ProtocolVersion1, CalledAE: opt.CalledAE, CallingAE: opt.CallingAE,
		ApplicationContext: ApplicationContextName, UserInfo: ui}
	used := map[byte]bool{}
	for _, pc := range opt.Contexts {
		if pc.ID != 0 {
			if pc.ID%2 == 0 || used[pc.ID] {
				return nil, fmt.Errorf("dial: presentation context id %d is even or repeated", pc.ID)
			}
			used[pc.ID] = true
		}
	}
	next := byte(1)
	roles := map[string]bool{}
	for _, pc := range opt.Contexts {
		id := pc.ID
		if id == 0 {
			for used[next] {
				if next == 255 {
					return nil, errors.New("dial: more than 128 presentation contexts")
				}
				next += 2
			}
			id = next
			used[id] = true
		}
		rq.Contexts = append(rq.Contexts, PresentationContextRQ{ID: id, AbstractSyntax: pc.AbstractSyntax, TransferSyntaxes: pc.TransferSyntaxes})
		if (pc.SCURole != nil || pc.SCPRole != nil) && !roles[pc.AbstractSyntax] {
			roles[pc.AbstractSyntax] = true
			r := RoleSelection{SOPClass: pc.AbstractSyntax, SCU: true}
			if pc.SCURole != nil {
				r.SCU = *pc.SCURole
			}
			if pc.SCPRole != nil {
				r.SCP = *pc.SCPRole
			}
			rq.UserInfo.Roles = append(rq.UserInfo.Roles, r)
		}
	}
	if _, err := AppendPDU(nil, rq); err != nil {
		return nil, fmt.Errorf("dial: %w", err)
	}
	return rq, nil
}

// request sends rq (Evt2: AE-2) and waits for the reply in Sta5.
func (a *Association) request(ctx context.Context, rq *AssociateRQ) error {
	a.setState(sta5)
	if err := a.writePDU(ctx, rq); err != nil {
		a.end(&AbortError{Source: SourceServiceProvider, Local: true, Cause: err})
		return fmt.Errorf("send a-associate-rq: %w", err)
	}
	p, ev, cause := a.receive(ctx)
	switch lookup(ev, sta5) {
	case ae3:
		a.accepted(rq, p.(*AssociateAC))
		a.setState(sta6)
		a.log.Debug("association established", "contexts", len(a.contexts), "peer_max_pdu", a.peerMax)
		return nil
	case ae4:
		rj := p.(*AssociateRJ)
		err := &RejectError{Result: rj.Result, Source: rj.Source, Reason: rj.Reason}
		a.end(err)
		return err
	}
	if ev == evt17 && cause == nil {
		cause = errors.New("connection closed")
	}
	if ev == 0 { // ctx done before a byte of the reply
		a.localAbort(cause)
		return cause
	}
	_, err := a.dispatch(ev, p, cause)
	if err == nil {
		err = a.terminal()
	}
	return err
}

// accepted records the outcome of an A-ASSOCIATE-AC for rq.
func (a *Association) accepted(rq *AssociateRQ, ac *AssociateAC) {
	a.peerMax = ac.UserInfo.MaxLength
	a.peerClassUID, a.peerVersion = ac.UserInfo.ImplementationClassUID, ac.UserInfo.ImplementationVersionName
	a.extended = ac.UserInfo.Extended
	if as := ac.UserInfo.AsyncOps; as != nil && rq.UserInfo.AsyncOps != nil {
		a.asyncInvoked, a.asyncPerformed = as.Invoked, as.Performed
	}
	proposedRoles := map[string]RoleSelection{}
	for _, r := range rq.UserInfo.Roles {
		proposedRoles[r.SOPClass] = r
	}
	replies := map[string]RoleSelection{}
	for _, r := range ac.UserInfo.Roles {
		if _, ok := replies[r.SOPClass]; !ok {
			replies[r.SOPClass] = r
		}
	}
	results := map[byte]PresentationContextAC{}
	for _, pc := range ac.Contexts {
		results[pc.ID] = pc
	}
	for _, pc := range rq.Contexts {
		out := PresentationContext{ID: pc.ID, AbstractSyntax: pc.AbstractSyntax, Result: 2, SCURole: true}
		if r, ok := results[pc.ID]; ok {
			out.Result = r.Result
			if r.Result == 0 {
				out.TransferSyntax = r.TransferSyntax
				if !slices.Contains(pc.TransferSyntaxes, r.TransferSyntax) {
					a.log.Warn("peer accepted a transfer syntax not proposed; context treated as rejected", "context", pc.ID, "transfer_syntax", r.TransferSyntax)
					out.Result, out.TransferSyntax = 4, ""
				}
			}
		}
		if p, ok := proposedRoles[pc.AbstractSyntax]; ok {
			if r, ok := replies[pc.AbstractSyntax]; ok {
				out.SCURole, out.SCPRole = p.SCU && r.SCU, p.SCP && r.SCP
			}
			// No reply: the default roles (PS3.7 D.3.3.4).
		}
		a.byID[pc.ID] = len(a.contexts)
		a.contexts = append(a.contexts, out)
	}
}
