package services

// The sub-fields of the service-class-application-information of C-FIND
// SOP class extended negotiation (PS3.4 C.5.1.1, Tables C.5-1 and C.5-2),
// by byte offset. Each is 1 to propose (in the A-ASSOCIATE-RQ) or grant (in
// the A-ASSOCIATE-AC) the option, 0 otherwise.
const (
	findRelationalQueries     = 0 // relational queries (C.4.1.2.2.2)
	findCombinedDateTime      = 1 // combined date-time matching (C.2.2.2.5.1)
	findFuzzySemanticPN       = 2 // fuzzy semantic matching of person names (C.2.2.2.1.x)
	findTimezoneAdjustment    = 3 // timezone query adjustment: not granted
	findEnhancedMultiFrame    = 4 // Enhanced Multi-Frame Image Conversion: not granted
	findEmptyValueMatching    = 5 // empty value matching ("")
	findMultipleValueMatching = 6 // multiple value matching: not granted
	findNegotiationFields     = 7 // the sub-fields defined
)

// findGranted says which proposed sub-fields the archive grants: those its
// index implements.
var findGranted = [findNegotiationFields]bool{
	findRelationalQueries:  true,
	findCombinedDateTime:   true,
	findFuzzySemanticPN:    true,
	findEmptyValueMatching: true,
}

// FindNegotiation is what SOP class extended negotiation granted for a
// C-FIND SOP class on an association. The zero value is the default
// without negotiation: hierarchical queries, combined date-time matching
// off, person names matched exactly (case-sensitively).
type FindNegotiation struct {
	Relational       bool
	CombinedDateTime bool
	// FuzzySemanticPN matches person names ignoring case and accents, which
	// PS3.4 C.2.2.2.1 allows as fuzzy semantic matching.
	FuzzySemanticPN bool
	// EmptyValueMatching is granted because the index always matches a key
	// of "" against empty and absent values.
	EmptyValueMatching bool
}

// ParseFindNegotiation reads the service-class-application-information
// granted in an A-ASSOCIATE-AC (nil: none). Missing sub-fields are 0.
func ParseFindNegotiation(info []byte) FindNegotiation {
	on := func(i int) bool { return i < len(info) && info[i] == 1 }
	return FindNegotiation{
		Relational:         on(findRelationalQueries),
		CombinedDateTime:   on(findCombinedDateTime),
		FuzzySemanticPN:    on(findFuzzySemanticPN),
		EmptyValueMatching: on(findEmptyValueMatching),
	}
}

// FindNegotiationReply answers the service-class-application-information
// that an A-ASSOCIATE-RQ proposed for a C-FIND SOP class: each proposed
// sub-field is granted (1) when it was proposed and the archive implements
// it (relational queries, combined date-time matching, fuzzy semantic
// matching of person names, empty value matching), else 0. The reply has
// as many sub-fields as the proposal, up to the seven PS3.4 defines (a
// one-byte proposal gets a one-byte reply, as C.5.1.1 requires); an empty
// proposal gets no reply.
func FindNegotiationReply(info []byte) []byte {
	if len(info) == 0 {
		return nil
	}
	reply := make([]byte, min(len(info), findNegotiationFields))
	for i := range reply {
		if info[i] == 1 && findGranted[i] {
			reply[i] = 1
		}
	}
	return reply
}
