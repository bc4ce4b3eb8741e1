package index

import (
	"fmt"
	"strings"

	"github.com/pacsforge/pacs/core/dicom"
)

// Level is a query/retrieve level of the information model (PS3.4 C.3).
type Level uint8

// The query/retrieve levels, from the top.
const (
	Patient Level = iota
	Study
	Series
	Image
)

var levelNames = [...]string{"PATIENT", "STUDY", "SERIES", "IMAGE"}

// String returns the level as Query/Retrieve Level (0008,0052) spells it.
func (l Level) String() string {
	if int(l) < len(levelNames) {
		return levelNames[l]
	}
	return fmt.Sprintf("Level(%d)", uint8(l))
}

// ParseLevel returns the Level of a Query/Retrieve Level value (case and
// surrounding spaces ignored), and false if it names none.
func ParseLevel(s string) (Level, bool) {
	s = strings.ToUpper(strings.TrimSpace(s))
	for i, n := range levelNames {
		if n == s {
			return Level(i), true
		}
	}
	return 0, false
}

// Root is the query/retrieve information model (PS3.4 C.3.1, C.3.2).
type Root uint8

const (
	// PatientRoot is the Patient Root model: PATIENT, STUDY, SERIES, IMAGE.
	PatientRoot Root = iota
	// StudyRoot is the Study Root model: STUDY (with the patient's
	// attributes), SERIES, IMAGE.
	StudyRoot
)

// alias is the table alias of each level in the SQL built here.
var alias = [...]string{"p", "st", "se", "i"}

// table is the table of each level.
var table = [...]string{"patient", "study", "series", "instance"}

// kind says how a column's values are normalised and matched.
type kind uint8

const (
	kText  kind = iota // exact or wildcard, case-sensitive
	kPN                // person name: normalised padding, optional folded copy
	kUI                // single UID or list of UIDs
	kDA                // date YYYYMMDD, single value or range
	kTM                // time HHMMSS[.f], single value or range
	kIS                // integer string in canonical form
	kCount             // maintained count, returned only
)

// column is an attribute kept in a column of its level's table.
type column struct {
	tag   dicom.Tag
	level Level
	name  string // column in table[level]
	norm  string // folded copy (kPN), or ""
	kind  kind
}

// columns are the indexed attributes: the unique and required keys of
// PS3.4 C.6.1.1 and C.6.2.1 and the optional keys most commonly queried.
// The order of each level is the column order of its INSERT.
var columns = []column{
	{tag: dicom.PatientID, level: Patient, name: "patient_id", kind: kText},
	{tag: dicom.IssuerOfPatientID, level: Patient, name: "issuer", kind: kText},
	{tag: dicom.PatientName, level: Patient, name: "patient_name", norm: "patient_name_norm", kind: kPN},
	{tag: dicom.PatientBirthDate, level: Patient, name: "patient_birth_date", kind: kDA},
	{tag: dicom.PatientSex, level: Patient, name: "patient_sex", kind: kText},
	{tag: dicom.NumberOfPatientRelatedStudies, level: Patient, name: "num_studies", kind: kCount},
	{tag: dicom.NumberOfPatientRelatedSeries, level: Patient, name: "num_series", kind: kCount},
	{tag: dicom.NumberOfPatientRelatedInstances, level: Patient, name: "num_instances", kind: kCount},

	{tag: dicom.StudyInstanceUID, level: Study, name: "study_instance_uid", kind: kUI},
	{tag: dicom.StudyDate, level: Study, name: "study_date", kind: kDA},
	{tag: dicom.StudyTime, level: Study, name: "study_time", kind: kTM},
	{tag: dicom.AccessionNumber, level: Study, name: "accession_number", kind: kText},
	{tag: dicom.StudyID, level: Study, name: "study_id", kind: kText},
	{tag: dicom.StudyDescription, level: Study, name: "study_description", kind: kText},
	{tag: dicom.ReferringPhysicianName, level: Study, name: "referring_physician_name", norm: "referring_physician_name_norm", kind: kPN},
	{tag: dicom.NumberOfStudyRelatedSeries, level: Study, name: "num_series", kind: kCount},
	{tag: dicom.NumberOfStudyRelatedInstances, level: Study, name: "num_instances", kind: kCount},

	{tag: dicom.SeriesInstanceUID, level: Series, name: "series_instance_uid", kind: kUI},
	{tag: dicom.Modality, level: Series, name: "modality", kind: kText},
	{tag: dicom.SeriesNumber, level: Series, name: "series_number", kind: kIS},
	{tag: dicom.SeriesDescription, level: Series, name: "series_description", kind: kText},
	{tag: dicom.BodyPartExamined, level: Series, name: "body_part_examined", kind: kText},
	{tag: dicom.SeriesDate, level: Series, name: "series_date", kind: kDA},
	{tag: dicom.SeriesTime, level: Series, name: "series_time", kind: kTM},
	{tag: dicom.NumberOfSeriesRelatedInstances, level: Series, name: "num_instances", kind: kCount},

	{tag: dicom.SOPInstanceUID, level: Image, name: "sop_instance_uid", kind: kUI},
	{tag: dicom.SOPClassUID, level: Image, name: "sop_class_uid", kind: kUI},
	{tag: dicom.InstanceNumber, level: Image, name: "instance_number", kind: kIS},
}

// columnOf maps a tag to its column.
var columnOf = func() map[dicom.Tag]*column {
	m := make(map[dicom.Tag]*column, len(columns))
	for i := range columns {
		m[columns[i].tag] = &columns[i]
	}
	return m
}()

// uniqueKey is the unique key of each level (PS3.4 C.6.1.1, C.6.2.1).
var uniqueKey = [...]dicom.Tag{dicom.PatientID, dicom.StudyInstanceUID, dicom.SeriesInstanceUID, dicom.SOPInstanceUID}

// studyLevelPatientTags are attributes of group 0010 that describe the
// patient at the time of a study (Patient Study module), so belong to the
// study level.
var studyLevelPatientTags = map[dicom.Tag]bool{
	dicom.PatientAge:               true,
	dicom.PatientSize:              true,
	dicom.PatientWeight:            true,
	dicom.Occupation:               true,
	dicom.AdditionalPatientHistory: true,
}

// levelOf returns the level an attribute belongs to, and false for an
// attribute of no particular level, which is matched at the query level.
func levelOf(t dicom.Tag) (Level, bool) {
	if c, ok := columnOf[t]; ok {
		return c.level, true
	}
	switch t {
	case dicom.ModalitiesInStudy, dicom.SOPClassesInStudy, dicom.PatientAge, dicom.PatientSize, dicom.PatientWeight:
		return Study, true
	case dicom.AvailableTransferSyntaxUID:
		return Image, true
	}
	if t.Group() == 0x0010 && !studyLevelPatientTags[t] {
		return Patient, true
	}
	return 0, false
}

// extract returns the normalised column value of c in ds.
func (c *column) extract(ds *dicom.Dataset) string {
	v := ds.String(c.tag)
	switch c.kind {
	case kPN:
		return normPN(v)
	case kDA:
		return normDA(v)
	case kTM:
		return normTM(v)
	case kIS:
		return normIS(v)
	}
	return v
}
