package finding

// The hiring kit's Coding Test indicators (shared/seed), word for word, and the task statement's
// own requirements. Every finding names the one it evidences.
var (
	// Positive indicators.
	Separation      = Indicator{Kind: "positive", Text: "Clear separation of mapping, network, and retry concerns"}
	ProperBackoff   = Indicator{Kind: "positive", Text: "Proper exponential backoff with jitter"}
	SecureHeaders   = Indicator{Kind: "positive", Text: "Secure header handling without logging secrets"}
	IdempotentRetry = Indicator{Kind: "positive", Text: "Idempotent or safe retry semantics"}
	AIRisks         = Indicator{Kind: "positive", Text: "Identifies AI-generated security risks (e.g., logging tokens, missing TLS verification)"}
	FixedRetryLogic = Indicator{Kind: "positive", Text: "Corrects flawed retry logic (e.g., infinite loops, missing backoff)"}
	MappingEdges    = Indicator{Kind: "positive", Text: "Validates schema mapping edge cases AI missed"}
	AIRationale     = Indicator{Kind: "positive", Text: "Clearly documents rationale for AI-assisted vs manual changes"}
	FollowsSpecs    = Indicator{Kind: "positive", Text: "Follows documented specs step-by-step"}

	// Negative indicators.
	BlockingLoops     = Indicator{Kind: "negative", Text: "Blocking loops for retries"}
	HardcodedOrLogged = Indicator{Kind: "negative", Text: "Hardcoded credentials or logging sensitive tokens"}
	NoClassification  = Indicator{Kind: "negative", Text: "Missing error classification for transient vs permanent failures"}
	HeavyFrameworks   = Indicator{Kind: "negative", Text: "Overcomplicated framework usage for a simple sync task"}

	// Requirements of the Coding Test's statement.
	RetryAndLogging = Indicator{Kind: "requirement", Text: "Coding Test: include retry logic with exponential backoff and proper error logging"}
	HonestClient    = Indicator{Kind: "requirement", Text: "Coding Test: a robust client that reports what it really did"}
	TimesOut        = Indicator{Kind: "requirement", Text: "Coding Test: the external API occasionally returns 5xx errors or times out"}
	TypeScript      = Indicator{Kind: "requirement", Text: "Coding Test: write a TypeScript function that fetches ticket data, maps it to a target schema, and posts it"}
)
