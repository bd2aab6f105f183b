// Package facts is what the static review's analyzer reports about a submission (the
// TypeScript compiler's view of its code, run in the sandbox by grader/static): plain data,
// kept with a grading's evidence and judged by grader/review.
package facts

import "time"

// Output is what the analyzer prints: one Facts per project it was given.
type Output struct {
	Analyzer   int     `json:"analyzer"`
	TypeScript string  `json:"typescript"`
	Projects   []Facts `json:"projects"`
}

// Facts are what the compiler found in one submission. Paths are relative to its root; every
// string in here comes from the candidate's code and is untrusted.
type Facts struct {
	Root             string          `json:"root"`
	Entry            string          `json:"entry"`
	EntryFound       bool            `json:"entryFound"`
	Files            []File          `json:"files"`
	Diagnostics      []Diagnostic    `json:"diagnostics"`
	DiagnosticsTotal int             `json:"diagnosticsTotal"`
	Strings          []StringLiteral `json:"strings"`
	TLS              []Hit           `json:"tls"`
	LogCalls         int             `json:"logCalls"`
	SecretLogs       []Hit           `json:"secretLogs"`
	Requests         []Request       `json:"requests"`
	Timeouts         []Hit           `json:"timeouts"`
	Loops            []Loop          `json:"loops"`
	RetryOptions     []Hit           `json:"retryOptions"`
	RetryLibraries   []Hit           `json:"retryLibraries"`
	Functions        []Function      `json:"functions"`
	Imports          []Import        `json:"imports"`
	Unsafe           []Hit           `json:"unsafe"`
	Truncated        []string        `json:"truncated"`

	// Set by Analyze, not the analyzer.
	TypeScript string        `json:"-"`
	Took       time.Duration `json:"-"`
}

// File is one source file the review read.
type File struct {
	Path    string `json:"path"`
	Lines   int    `json:"lines"`
	Program bool   `json:"program"` // type-checked (not test code)
	Test    bool   `json:"test"`
}

// Diagnostic is one compiler error under --strict.
type Diagnostic struct {
	File      string `json:"file"`
	Line      int    `json:"line"`
	Col       int    `json:"col"`
	Code      int    `json:"code"`
	Message   string `json:"message"`
	Syntactic bool   `json:"syntactic"`
}

// Hit is one place in the code: where, what kind, the source line.
type Hit struct {
	File   string `json:"file"`
	Line   int    `json:"line"`
	Col    int    `json:"col"`
	Kind   string `json:"kind"`
	Text   string `json:"text"`
	Detail string `json:"detail,omitempty"`
	Test   bool   `json:"test,omitempty"`
}

// StringLiteral is a literal that could be a credential (12+ characters, no spaces), with
// the name it is given (a variable, a property, through ?? defaults).
type StringLiteral struct {
	File  string `json:"file"`
	Line  int    `json:"line"`
	Col   int    `json:"col"`
	Value string `json:"value"`
	Name  string `json:"name"`
	Test  bool   `json:"test"`
	Text  string `json:"text"`
}

// Request is a call that makes an HTTP request: Bounded when its options carry a signal or a
// timeout (in place, or built in a variable it passes) or its function makes an abort signal;
// Passed when its options are a parameter (the caller may bound it).
type Request struct {
	Hit
	API     string `json:"api"`
	Bounded bool   `json:"bounded"`
	Passed  bool   `json:"passed"`
}

// Loop is a loop that reads the clock without awaiting (a spin), or a retry loop (or a
// retrying self-recursion) with what bounds it ("" when nothing does).
type Loop struct {
	Hit
	Clock     bool   `json:"clock"`
	Awaits    bool   `json:"awaits"`
	Retry     bool   `json:"retry"`
	BoundedBy string `json:"boundedBy"`
	Function  string `json:"function"`
}

// Function is a named function (or a module's top level) with the concerns it holds
// ("mapping", "transport", "retry") and the project functions it calls (by id).
type Function struct {
	ID      int      `json:"id"`
	Name    string   `json:"name"`
	File    string   `json:"file"`
	Line    int      `json:"line"`
	EndLine int      `json:"endLine"`
	Roles   []string `json:"roles"`
	Calls   []int    `json:"calls"`
}

// Import is one edge of the module graph: to a project file, or to a package (External).
type Import struct {
	From     string `json:"from"`
	To       string `json:"to"`
	External bool   `json:"external"`
}
