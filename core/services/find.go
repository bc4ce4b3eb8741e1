package services

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/hashicorp/go-hclog"

	"github.com/pacsforge/pacs/core/dicom"
	"github.com/pacsforge/pacs/core/dicom/uid"
	"github.com/pacsforge/pacs/core/dimse"
	"github.com/pacsforge/pacs/core/index"
	"github.com/pacsforge/pacs/core/ul"
)

// FindSOPClasses maps the Query/Retrieve FIND SOP classes served to their
// information model (PS3.4 C.6.1, C.6.2).
var FindSOPClasses = map[string]index.Root{
	uid.PatientRootQueryRetrieveInformationModelFind: index.PatientRoot,
	uid.StudyRootQueryRetrieveInformationModelFind:   index.StudyRoot,
}

// FindSyntaxes are the transfer syntaxes accepted for C-FIND, most
// preferred first.
var FindSyntaxes = []string{uid.ExplicitVRLittleEndian, uid.ImplicitVRLittleEndian, uid.ExplicitVRBigEndian}

// registerFind installs the C-FIND service class provider of the Patient
// Root and Study Root models, and answers their extended negotiation.
func registerFind(mux *dimse.Mux, policy *ul.Policy, o Options) {
	if o.Index == nil {
		return
	}
	for class, root := range FindSOPClasses {
		policy.Syntaxes[class] = FindSyntaxes
		mux.HandleCFind(class, FindHandler(o, root))
	}
	prev := policy.ExtendedNegotiation
	policy.ExtendedNegotiation = func(sopClass string, info []byte) []byte {
		if _, ok := FindSOPClasses[sopClass]; ok {
			return FindNegotiationReply(info)
		}
		if prev != nil {
			return prev(sopClass, info)
		}
		return nil
	}
}

// Keys that the archive answers itself rather than the index: they are
// not matched (PS3.4 C.4.1.1.3.2 lists them as attributes the SCP
// supplies), and are returned when the identifier asks for them.
var scpSuppliedKeys = []dicom.Tag{dicom.RetrieveAETitle, dicom.InstanceAvailability}

// FindHandler answers C-FIND in the information model root with o.Index
// (PS3.4 C.4.1): the identifier's Query/Retrieve Level selects the level;
// the query is hierarchical and person names match case-sensitively unless
// relational queries or fuzzy semantic matching were negotiated on the
// association (FindNegotiation). Each match is sent as a pending response
// in a character set chosen by responseCharset. More than
// o.MaxFindResults matches (when positive) fail with A700 before any is
// sent; a C-CANCEL ends the operation with FE00.
func FindHandler(o Options, root index.Root) dimse.FindHandler {
	log := o.Logger
	if log == nil {
		log = hclog.NewNullLogger()
	}
	log = log.Named("find")
	return func(ctx context.Context, op *dimse.Op, rq *dimse.CFindRequest, identifier *dicom.Dataset, w *dimse.FindWriter) dimse.Status {
		neg := ParseFindNegotiation(op.ExtendedNegotiation(rq.AffectedSOPClassUID))
		q, st := findQuery(identifier, root, neg)
		if !st.OK() {
			log.Debug("query refused", "calling_ae", op.CallingAE, "sop_class", rq.AffectedSOPClassUID, "status", st)
			return st
		}
		q.Limit = o.MaxFindResults
		q.CaseInsensitivePN = q.CaseInsensitivePN || o.CaseInsensitivePN
		rc := newResponseCharset(identifier)
		n := 0
		for m, err := range o.Index.FindMatches(ctx, q) {
			if err != nil {
				return findStatus(ctx, err, o.MaxFindResults, log)
			}
			ds := m.Dataset
			supplyKeys(ds, identifier, o.AETitle)
			if err := w.Pending(ctx, rc.encode(ds, m.CharacterSet)); err != nil {
				return findStatus(ctx, err, o.MaxFindResults, log)
			}
			n++
		}
		if ctx.Err() != nil {
			return dimse.StatusCancel
		}
		log.Debug("query answered", "calling_ae", op.CallingAE, "level", q.Level, "matches", n,
			"relational", q.Relational, "fuzzy_pn", q.CaseInsensitivePN)
		return dimse.StatusSuccess
	}
}

// findQuery translates a C-FIND identifier into an index query, or returns
// the failure status that refuses it.
func findQuery(identifier *dicom.Dataset, root index.Root, neg FindNegotiation) (index.Query, dimse.Status) {
	lv := identifier.Get(dicom.QueryRetrieveLevel)
	if lv == nil {
		return index.Query{}, levelStatus("Query/Retrieve Level missing")
	}
	level, ok := index.ParseLevel(identifier.String(dicom.QueryRetrieveLevel))
	switch {
	case !ok:
		return index.Query{}, levelStatus("Query/Retrieve Level is not PATIENT, STUDY, SERIES or IMAGE")
	case root == index.StudyRoot && level == index.Patient:
		return index.Query{}, levelStatus("no PATIENT level in the Study Root model")
	}
	keys := identifier
	if hasAny(identifier, scpSuppliedKeys) {
		keys = shallowCopy(identifier)
		for _, t := range scpSuppliedKeys {
			keys.Delete(t)
		}
	}
	return index.Query{
		Level: level, Root: root, Keys: keys,
		Relational: neg.Relational, CombinedDateTime: neg.CombinedDateTime, CaseInsensitivePN: neg.FuzzySemanticPN,
	}, dimse.StatusSuccess
}

// levelStatus is the failure for a missing or wrong Query/Retrieve Level.
func levelStatus(comment string) dimse.Status {
	return dimse.Status{Code: dimse.CodeDataSetMismatch, ErrorComment: comment, OffendingElement: []dicom.Tag{dicom.QueryRetrieveLevel}}
}

// tagInError finds the tags an index error names, as (gggg,eeee).
var tagInError = regexp.MustCompile(`\(([0-9a-fA-F]{4}),([0-9a-fA-F]{4})\)`)

// findStatus maps the error that ended a query to the C-FIND status (PS3.4
// Table C.4-1). The comments name keys and limits only, never values.
func findStatus(ctx context.Context, err error, limit int, log hclog.Logger) dimse.Status {
	switch {
	case ctx.Err() != nil, errors.Is(err, dimse.ErrCancelled):
		return dimse.StatusCancel
	case errors.Is(err, index.ErrTooManyMatches):
		return dimse.StatusOutOfResources.WithComment(fmt.Sprintf("more than %d matches: narrow the query", limit)) // A700
	case errors.Is(err, index.ErrInvalidQuery):
		return invalidQueryStatus(err)
	default:
		log.Error("query failed", "error", err)
		return dimse.StatusCannotUnderstand.WithComment("query failed in the archive") // C000
	}
}

// invalidQueryStatus is the failure for an identifier the index refused:
// A900 for a hierarchical query without the unique keys above its level,
// C000 for a key whose value cannot be matched, naming the key.
func invalidQueryStatus(err error) dimse.Status {
	msg := err.Error()
	var tags []dicom.Tag
	for _, m := range tagInError.FindAllStringSubmatch(msg, -1) {
		g, _ := strconv.ParseUint(m[1], 16, 16)
		e, _ := strconv.ParseUint(m[2], 16, 16)
		tags = append(tags, dicom.Tag(g<<16|e))
	}
	switch {
	case strings.Contains(msg, "hierarchical") && len(tags) > 0:
		return dimse.Status{Code: dimse.CodeDataSetMismatch, OffendingElement: tags[:1],
			ErrorComment: "hierarchical query needs a single value of " + tags[0].String()}
	case strings.Contains(msg, "combined range"):
		return dimse.Status{Code: dimse.CodeCannotUnderstand, OffendingElement: []dicom.Tag{dicom.StudyDate, dicom.StudyTime},
			ErrorComment: "invalid combined Study Date and Study Time range"}
	case len(tags) > 0:
		return dimse.Status{Code: dimse.CodeCannotUnderstand, OffendingElement: tags[:1],
			ErrorComment: "invalid value of key " + tags[0].String()}
	default:
		return dimse.StatusCannotUnderstand.WithComment("invalid query")
	}
}

// supplyKeys fills in the keys the archive answers itself when the
// identifier asks for them: Retrieve AE Title is the archive's (when it
// has one), Instance Availability is ONLINE.
func supplyKeys(ds, identifier *dicom.Dataset, aeTitle string) {
	if identifier.Contains(dicom.RetrieveAETitle) {
		ds.Put(dicom.Element{Tag: dicom.RetrieveAETitle, VR: dicom.AE})
		if aeTitle != "" {
			_ = ds.SetString(dicom.RetrieveAETitle, aeTitle)
		}
	}
	if identifier.Contains(dicom.InstanceAvailability) {
		_ = ds.SetString(dicom.InstanceAvailability, "ONLINE")
	}
}

func hasAny(ds *dicom.Dataset, tags []dicom.Tag) bool {
	for _, t := range tags {
		if ds.Contains(t) {
			return true
		}
	}
	return false
}

// shallowCopy returns a data set holding the elements of ds (values
// shared) and its Codec.
func shallowCopy(ds *dicom.Dataset) *dicom.Dataset {
	out := dicom.NewDataset(ds.Len())
	out.Codec = ds.Codec
	for e := range ds.All() {
		out.Append(*e)
	}
	return out
}
