package ul

import (
	"context"
	"net"
	"slices"
)

// Policy is the acceptor's negotiation (PS3.8 §9.3.3, PS3.7 Annex D). The
// zero value accepts any AE titles but no abstract syntax.
type Policy struct {
	// AETitle is this application entity's title.
	AETitle string
	// StrictCalledAE rejects (1,1,7) a called AE title other than AETitle.
	StrictCalledAE bool
	// AllowCallingAE, when set, rejects (1,1,3) the calling AE titles for
	// which it returns false.
	AllowCallingAE func(ae string, addr net.Addr) bool
	// Syntaxes maps an abstract syntax UID to the transfer syntaxes accepted
	// for it, most preferred first: of those proposed, the acceptor picks its
	// most preferred (result 4 when none). Absent abstract syntaxes get
	// result 3 unless AcceptAny is set.
	Syntaxes map[string][]string
	// AcceptAny accepts abstract syntaxes absent from Syntaxes with
	// DefaultSyntaxes.
	AcceptAny bool
	// DefaultSyntaxes are the transfer syntaxes, most preferred first, for
	// abstract syntaxes accepted by AcceptAny.
	DefaultSyntaxes []string
	// Roles decides SCP/SCU role selection for the abstract syntaxes the
	// requestor proposed roles for (PS3.7 D.3.3.4): it returns which of the
	// proposed roles are accepted. Nil accepts the roles as proposed.
	Roles func(abstractSyntax string, scu, scp bool) (scuOK, scpOK bool)
	// MaxPDULength is the maximum P-DATA-TF length announced in the
	// A-ASSOCIATE-AC; 0 means DefaultMaxPDULength.
	MaxPDULength uint32
	// AsyncOps is the asynchronous operations window granted at most: the
	// reply is the smaller of this and the proposal, per field (0 in the
	// proposal means unlimited). A zero field here grants 1 (synchronous).
	AsyncOps AsyncOps
	// Authenticate checks a user identity (PS3.7 D.3.3.7); its response is
	// sent in a user identity item when the requestor asked for one (for
	// Kerberos, SAML and JWT). An error rejects the association with (1,1,1).
	// Nil accepts every identity without checking.
	Authenticate func(ctx context.Context, id *UserIdentity, addr net.Addr) (serverResponse []byte, err error)
	// ExtendedNegotiation, when set, returns the reply to a SOP class
	// extended negotiation sub-item, or nil to send none.
	ExtendedNegotiation func(sopClass string, info []byte) []byte
}

// negotiation is the outcome of negotiate: an A-ASSOCIATE-AC or -RJ.
type negotiation struct {
	ac       *AssociateAC
	rj       *AssociateRJ
	contexts []PresentationContext
	identity *UserIdentity
	async    AsyncOps
	cause    error // why it was rejected, for the log
}

// reject returns a rejection outcome.
func reject(result, source, reason byte, cause error) negotiation {
	return negotiation{rj: &AssociateRJ{Result: result, Source: source, Reason: reason}, cause: cause}
}

// negotiate answers rq under p. addr is the requestor's address.
func (p *Policy) negotiate(ctx context.Context, rq *AssociateRQ, addr net.Addr, classUID, version string) negotiation {
	switch {
	case rq.ProtocolVersion&ProtocolVersion1 == 0:
		return reject(RejectPermanent, RejectSourceProviderACSE, RejectProtocolVersion, nil)
	case rq.ApplicationContext != ApplicationContextName:
		return reject(RejectPermanent, RejectSourceUser, RejectApplicationContext, nil)
	case p.StrictCalledAE && rq.CalledAE != p.AETitle:
		return reject(RejectPermanent, RejectSourceUser, RejectCalledAE, ErrUnknownCalledAE)
	case p.AllowCallingAE != nil && !p.AllowCallingAE(rq.CallingAE, addr):
		return reject(RejectPermanent, RejectSourceUser, RejectCallingAE, ErrUnknownCallingAE)
	}
	n := negotiation{async: AsyncOps{Invoked: 1, Performed: 1}}
	ourMax := p.MaxPDULength
	if ourMax == 0 {
		ourMax = DefaultMaxPDULength
	}
	ac := &AssociateAC{
		ProtocolVersion: ProtocolVersion1, CalledAE: rq.CalledAE, CallingAE: rq.CallingAE,
		ApplicationContext: ApplicationContextName,
		UserInfo:           UserInfo{MaxLength: ourMax, ImplementationClassUID: classUID, ImplementationVersionName: version},
	}
	if id := rq.UserInfo.UserIdentity; id != nil {
		var resp []byte
		if p.Authenticate != nil {
			var err error
			if resp, err = p.Authenticate(ctx, id, addr); err != nil {
				return reject(RejectPermanent, RejectSourceUser, RejectNoReason, err)
			}
		}
		if id.PositiveResponseRequested {
			ac.UserInfo.UserIdentityResponse = &UserIdentityResponse{ServerResponse: resp}
		}
		n.identity = id
	}
	if as := rq.UserInfo.AsyncOps; as != nil {
		n.async = AsyncOps{Invoked: grant(as.Invoked, p.AsyncOps.Invoked), Performed: grant(as.Performed, p.AsyncOps.Performed)}
		ac.UserInfo.AsyncOps = &AsyncOps{Invoked: n.async.Invoked, Performed: n.async.Performed}
	}
	roles := map[string]RoleSelection{}
	for _, r := range rq.UserInfo.Roles {
		if _, dup := roles[r.SOPClass]; dup {
			continue // PS3.7 D.3.3.4: one item per SOP class; the first counts
		}
		scuOK, scpOK := r.SCU, r.SCP
		if p.Roles != nil {
			scuOK, scpOK = p.Roles(r.SOPClass, r.SCU, r.SCP)
		}
		reply := RoleSelection{SOPClass: r.SOPClass, SCU: r.SCU && scuOK, SCP: r.SCP && scpOK}
		roles[r.SOPClass] = reply
		ac.UserInfo.Roles = append(ac.UserInfo.Roles, reply)
	}
	seen := map[byte]bool{}
	for _, pc := range rq.Contexts {
		out := PresentationContext{ID: pc.ID, AbstractSyntax: pc.AbstractSyntax, SCURole: true}
		if r, ok := roles[pc.AbstractSyntax]; ok {
			out.SCURole, out.SCPRole = r.SCU, r.SCP
		}
		switch {
		case pc.ID%2 == 0 || seen[pc.ID]:
			out.Result = 2 // an even or repeated ID (PS3.8 §9.3.2.2): no reason given
		default:
			out.Result, out.TransferSyntax = p.chooseSyntax(pc)
		}
		seen[pc.ID] = true
		n.contexts = append(n.contexts, out)
		ac.Contexts = append(ac.Contexts, PresentationContextAC{ID: pc.ID, Result: out.Result, TransferSyntax: out.TransferSyntax})
	}
	if p.ExtendedNegotiation != nil {
		for _, e := range rq.UserInfo.Extended {
			if reply := p.ExtendedNegotiation(e.SOPClass, e.Info); reply != nil {
				ac.UserInfo.Extended = append(ac.UserInfo.Extended, ExtendedNegotiation{SOPClass: e.SOPClass, Info: reply})
			}
		}
	}
	n.ac = ac
	return n
}

// chooseSyntax returns the result and transfer syntax for one proposed context.
func (p *Policy) chooseSyntax(pc PresentationContextRQ) (byte, string) {
	accepted, ok := p.Syntaxes[pc.AbstractSyntax]
	if !ok {
		if !p.AcceptAny || pc.AbstractSyntax == "" {
			return 3, ""
		}
		accepted = p.DefaultSyntaxes
	}
	for _, ts := range accepted {
		if slices.Contains(pc.TransferSyntaxes, ts) {
			return 0, ts
		}
	}
	return 4, ""
}

// grant returns the window granted for a proposal: the smaller of the two,
// where a proposal of 0 is unlimited and a limit of 0 is 1.
func grant(proposed, limit int) int {
	if limit <= 0 {
		limit = 1
	}
	if proposed == 0 || proposed > limit {
		return limit
	}
	return proposed
}
