package names

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// BaseVerb returns the base form of an English past-tense or past-participle
// verb, keeping the case of the first letter ("Created" → "Create", "Added" →
// "Add", "Paid" → "Pay", "Stopped" → "Stop", "Applied" → "Apply"). ok is
// false when word does not look like a past tense.
//
// The word is compared in lower case and goes through these steps, the first
// that applies wins:
//
//  1. a table of irregular past forms ("Paid" → "Pay", "Written" → "Write")
//     and of verbs that are their own past ("Reset", "Set", "Read");
//  2. a table of regular past forms that the rules below get wrong
//     ("Created" → "Create", "Synced" → "Sync", "Cancelled" → "Cancel"),
//     including a few short words ("Aged" → "Age", "Used" → "Use");
//  3. words ending in "ed" that are not verbs ("Speed", "Proceed",
//     "Hundred", "Relent") are not past tenses;
//  4. a prefix (re, over, under, mis, up) before a word of table 1
//     ("Overwritten" → "Overwrite"), or a prefix (re, un, pre, de, dis, mis,
//     up, down, over, under, auto) before a word of table 2 ("Resynced" →
//     "Resync", "Upvoted" → "Upvote"); any other word of 4 letters or fewer
//     ("Red", "Shed") is not a past tense;
//  5. "ied" → "y" ("Applied" → "Apply");
//  6. "ed" is cut off and the stem adjusted: a stem ending in "e" gets
//     another "e" ("Agreed" → "Agree"); a doubled final consonant loses one
//     letter ("Stopped" → "Stop") except "ll", "ss", "ff", "zz" and the "dd"
//     of "add" ("Called", "Passed", "Added"); a stem whose ending shows a
//     silent "e" gets it back ("Removed", "Placed", "Issued", "Closed",
//     "Changed", "Enabled", "Compiled", "Updated", "Deleted", "Renamed",
//     "Declined", "Compared", "Scoped", "Invoked", "Traded", "Described");
//     any other stem is the base ("Suspended" → "Suspend").
//
// Words that do not end in "ed" and are not in the tables are not past
// tenses ("Heartbeat", "Born").
func BaseVerb(word string) (base string, ok bool) {
	base, ok = baseVerbLower(strings.ToLower(word))
	if !ok {
		return "", false
	}
	if r, _ := utf8.DecodeRuneInString(word); unicode.IsUpper(r) {
		base = upperFirst(base)
	}
	return base, true
}

// MethodName names the read-model method for an event: the event's past-tense
// verb in base form, then the rest of the event's name, or object when the
// event name is only the verb.
//
// The verb is the last word of the event (see Words) for which BaseVerb
// succeeds. The method is that verb in base form, then the words before it,
// then the words after it, each written in exported Go style (initialisms
// upper-cased): "RepositoryAdded" → "AddRepository", "ItemAddedToCart" →
// "AddItemToCart", "V1_ORDER_CREATED" → "CreateV1Order". When the verb is
// the event's only word, object (an exported Go identifier such as
// "Installation") follows it: MethodName("Created", "Installation") is
// "CreateInstallation". A particle after the verb stays after the object of
// the verb, so "CartCheckedOut" gives "CheckCartOut". When no word is a past
// tense the method is "Apply" + Exported(event): "Heartbeat" →
// "ApplyHeartbeat".
func MethodName(event, object string) string {
	words := EventWords(event)
	verb, base := -1, ""
	for i := len(words) - 1; i >= 0; i-- {
		if b, ok := BaseVerb(words[i]); ok {
			verb, base = i, b
			break
		}
	}
	if verb < 0 {
		return "Apply" + Exported(event)
	}
	var b strings.Builder
	b.WriteString(exportWord(base))
	for i, w := range words {
		if i != verb {
			b.WriteString(exportWord(w))
		}
	}
	if len(words) == 1 {
		b.WriteString(object)
	}
	return b.String()
}

// EventWords returns the words of an event's name that say what happened:
// without a library's type suffix (TrimTypeSuffix) and without auxiliary
// verbs, so that go-eventually's WasCreated reads as Created and
// ItemWasAdded as ItemAdded. A name of auxiliaries only is kept whole.
func EventWords(event string) []string {
	words := Words(TrimTypeSuffix(event))
	var out []string
	for _, w := range words {
		if !slices.Contains(auxiliaries, strings.ToLower(w)) {
			out = append(out, w)
		}
	}
	if len(out) == 0 {
		return words
	}
	return out
}

// auxiliaries are the auxiliary verbs of passive event names.
var auxiliaries = []string{"was", "were", "has", "have", "had", "been", "is", "are", "got"}

// TrimTypeSuffix returns an event's name without a trailing word that
// says what the type is rather than what happened (see typeSuffixes):
// "BookingRequestedData" → "BookingRequested". A name of one word is kept.
func TrimTypeSuffix(event string) string {
	words := Words(event)
	if n := len(words); n > 1 && slices.Contains(typeSuffixes, words[n-1]) {
		return strings.TrimSuffix(event, words[n-1])
	}
	return event
}

// typeSuffixes end the names of event types in some libraries' styles
// (eventhorizon's BookingRequestedData, OrderCreatedEvent): they say what
// the type is, so method names leave them out.
var typeSuffixes = []string{"Data", "Event", "Payload"}

// baseVerbLower is BaseVerb for a lower-case word.
func baseVerbLower(w string) (string, bool) {
	if b, ok := irregularPast(w); ok {
		return b, true
	}
	if b, ok := regularException(w); ok {
		return b, true
	}
	if notPast(w) {
		return "", false
	}
	if b, ok := prefixedPast(w); ok {
		return b, true
	}
	if len(w) <= 4 {
		return "", false
	}
	if stem, ok := strings.CutSuffix(w, "ied"); ok {
		return stem + "y", true
	}
	if stem, ok := strings.CutSuffix(w, "ed"); ok {
		return regularBase(stem), true
	}
	return "", false
}

// prefixedPast handles a prefix before a word of the irregular or exception
// tables: "overwritten" → "overwrite", "resynced" → "resync".
func prefixedPast(w string) (string, bool) {
	// The irregular table takes fewer prefixes: "present" is not "pre" +
	// "sent", and "unknown" or "unread" are adjectives.
	for _, p := range [...]string{"under", "over", "mis", "re", "up"} {
		if rest, ok := strings.CutPrefix(w, p); ok {
			if b, ok := irregularPast(rest); ok {
				return p + b, true
			}
		}
	}
	for _, p := range [...]string{"under", "over", "down", "auto", "dis", "mis", "pre", "de", "re", "un", "up"} {
		if rest, ok := strings.CutPrefix(w, p); ok {
			if b, ok := regularException(rest); ok {
				return p + b, true
			}
		}
	}
	return "", false
}

// notPast reports whether w, though it may end in "ed", is not a past tense.
func notPast(w string) bool {
	switch w {
	case "greed", "creed", "reed", "embed", "shred", "hundred", "infrared",
		"sacred", "naked", "wicked", "kindred", "relent":
		return true
	}
	for _, s := range [...]string{"ceed", "speed", "breed", "bleed", "feed", "need", "seed", "heed", "weed", "deed", "steed", "tweed"} {
		if strings.HasSuffix(w, s) {
			return true
		}
	}
	return false
}

// regularBase returns the base form for the stem of a regular past tense (the
// word without "ed", at least 3 letters).
func regularBase(s string) string {
	n := len(s)
	last := s[n-1]
	if last == 'e' {
		return s + "e" // agreed, freed, guaranteed
	}
	if s[n-2] == last && isConsonant(last) {
		switch last {
		case 'l', 's', 'f', 'z':
			return s // called, passed, staffed, buzzed
		case 'd':
			if strings.HasSuffix(s, "add") {
				return s // added, readded
			}
		}
		return s[:n-1] // stopped, submitted, embedded
	}
	if silentE(s) {
		return s + "e"
	}
	return s
}

// silentE reports whether the stem s of a regular past tense lost a silent
// final "e" ("remov" from "removed").
func silentE(s string) bool {
	n := len(s)
	c1, c2, c3 := s[n-1], s[n-2], s[n-3]
	// single: c2 is a vowel with a consonant before it ("rat", not "treat").
	single := isVowel(c2) && isConsonant(c3)
	switch c1 {
	case 'v', 'c', 'z', 'u':
		return true // removed, placed, authorized, issued
	case 's':
		return c2 != 's' // closed, released; not passed
	case 'g':
		// changed, merged, plunged; not pinged, belonged
		return c2 != 'n' || c3 == 'a' || c3 == 'e' || c3 == 'u'
	case 'l':
		if isConsonant(c2) && c2 != 'l' && c2 != 'r' && c2 != 'w' {
			return true // enabled, handled; not curled, howled
		}
		return (c2 == 'i' || c2 == 'u') && isConsonant(c3) // compiled, ruled; not failed
	case 't':
		if (c2 == 'a' || c2 == 'u') && isConsonant(c3) {
			return true // updated, computed; not treated
		}
		if c2 == 'a' && (c3 == 'i' || c3 == 'u') {
			return true // initiated, evaluated
		}
		// deleted, completed; not bulleted
		return strings.HasSuffix(s, "let") && (n < 4 || s[n-4] != 'l')
	case 'm':
		return single && c2 != 'e' // renamed, timed, welcomed, consumed; not claimed
	case 'n':
		return c2 == 'i' && isConsonant(c3) // declined; not joined
	case 'r':
		return single && (c2 == 'a' || c2 == 'i' || c2 == 'u') // compared, expired, secured; not cleared, ordered
	case 'p':
		return (isVowel(c2) || c2 == 'y') && isConsonant(c3) // scoped, typed; not developed (table)
	case 'k', 'd', 'b':
		return single // invoked, traded, described; not booked, loaded
	}
	return false
}

// isConsonant reports whether c is a lower-case ASCII letter other than a, e,
// i, o, u (y is a consonant).
func isConsonant(c byte) bool {
	return c >= 'a' && c <= 'z' && !isVowel(c)
}

// irregularPast returns the base form of an irregular past form, or of a verb
// that is its own past.
func irregularPast(w string) (string, bool) {
	switch w {
	// Verbs that are their own past.
	case "reset", "set", "put", "cut", "shut", "let", "split", "quit", "hit",
		"hurt", "cast", "broadcast", "forecast", "upset", "bid", "read",
		"rerun", "overrun":
		return w, true
	}
	b := ""
	switch w {
	case "paid":
		b = "pay"
	case "laid":
		b = "lay"
	case "said":
		b = "say"
	case "heard":
		b = "hear"
	case "sent":
		b = "send"
	case "built":
		b = "build"
	case "rebuilt":
		b = "rebuild"
	case "made":
		b = "make"
	case "sold":
		b = "sell"
	case "bought":
		b = "buy"
	case "held":
		b = "hold"
	case "kept":
		b = "keep"
	case "spent":
		b = "spend"
	case "lent":
		b = "lend"
	case "left":
		b = "leave"
	case "lost":
		b = "lose"
	case "won":
		b = "win"
	case "found":
		b = "find"
	case "bound":
		b = "bind"
	case "began", "begun":
		b = "begin"
	case "chose", "chosen":
		b = "choose"
	case "wrote", "written":
		b = "write"
	case "rewrote", "rewritten":
		b = "rewrite"
	case "took", "taken":
		b = "take"
	case "gave", "given":
		b = "give"
	case "forgave", "forgiven":
		b = "forgive"
	case "shown":
		b = "show"
	case "saw", "seen":
		b = "see"
	case "did", "done":
		b = "do"
	case "undid", "undone":
		b = "undo"
	case "withdrew", "withdrawn":
		b = "withdraw"
	case "drew", "drawn":
		b = "draw"
	case "froze", "frozen":
		b = "freeze"
	case "unfroze", "unfrozen":
		b = "unfreeze"
	case "hid", "hidden":
		b = "hide"
	case "forgot", "forgotten":
		b = "forget"
	case "drove", "driven":
		b = "drive"
	case "rode", "ridden":
		b = "ride"
	case "rose", "risen":
		b = "rise"
	case "arose", "arisen":
		b = "arise"
	case "fell", "fallen":
		b = "fall"
	case "broke", "broken":
		b = "break"
	case "spoke", "spoken":
		b = "speak"
	case "stole", "stolen":
		b = "steal"
	case "woke", "woken":
		b = "wake"
	case "awoke", "awoken":
		b = "awake"
	case "shook", "shaken":
		b = "shake"
	case "tore", "torn":
		b = "tear"
	case "wore", "worn":
		b = "wear"
	case "swore", "sworn":
		b = "swear"
	case "proven":
		b = "prove"
	case "led":
		b = "lead"
	case "fed":
		b = "feed"
	case "fled":
		b = "flee"
	case "bred":
		b = "breed"
	case "bled":
		b = "bleed"
	case "sped":
		b = "speed"
	case "met":
		b = "meet"
	case "sat":
		b = "sit"
	case "lit":
		b = "light"
	case "slid":
		b = "slide"
	case "shot":
		b = "shoot"
	case "hung":
		b = "hang"
	case "stuck":
		b = "stick"
	case "struck":
		b = "strike"
	case "dug":
		b = "dig"
	case "spun":
		b = "spin"
	case "swung":
		b = "swing"
	case "told":
		b = "tell"
	case "retold":
		b = "retell"
	case "upheld":
		b = "uphold"
	case "withheld":
		b = "withhold"
	case "brought":
		b = "bring"
	case "caught":
		b = "catch"
	case "fought":
		b = "fight"
	case "sought":
		b = "seek"
	case "taught":
		b = "teach"
	case "thought":
		b = "think"
	case "felt":
		b = "feel"
	case "dealt":
		b = "deal"
	case "meant":
		b = "mean"
	case "bent":
		b = "bend"
	case "slept":
		b = "sleep"
	case "swept":
		b = "sweep"
	case "went", "gone":
		b = "go"
	case "got", "gotten":
		b = "get"
	case "came":
		b = "come"
	case "became":
		b = "become"
	case "overcame":
		b = "overcome"
	case "knew", "known":
		b = "know"
	case "grew", "grown":
		b = "grow"
	case "threw", "thrown":
		b = "throw"
	case "flew", "flown":
		b = "fly"
	case "blew", "blown":
		b = "blow"
	case "ate", "eaten":
		b = "eat"
	case "stood":
		b = "stand"
	case "understood":
		b = "understand"
	case "ran":
		b = "run"
	case "rang", "rung":
		b = "ring"
	case "sang", "sung":
		b = "sing"
	case "swam", "swum":
		b = "swim"
	case "drank", "drunk":
		b = "drink"
	case "sank", "sunk":
		b = "sink"
	default:
		return "", false
	}
	return b, true
}

// regularException returns the base form of a regular past tense that the
// rules of regularBase get wrong, and of short past tenses (4 letters or
// fewer) that BaseVerb would otherwise reject.
func regularException(w string) (string, bool) {
	b := ""
	switch w {
	// Short words.
	case "aged", "used", "owed", "tied", "died", "sued", "cued", "iced",
		"aced", "axed", "dyed", "eyed":
		b = strings.TrimSuffix(w, "d")
	// A silent "e" the rules cannot see.
	case "created", "recreated", "routed", "invited", "united", "guided",
		"acquired", "required", "inquired", "quoted", "voted", "noted",
		"promoted", "demoted", "cloned", "zoned", "phoned", "postponed",
		"honed", "toned", "atoned", "condoned", "tuned", "attuned", "pruned",
		"scaled", "pasted", "wasted", "tasted", "restored", "stored",
		"scored", "ignored", "explored", "cited", "excited", "ignited",
		"incited", "expedited", "competed", "convened", "intervened",
		"themed", "cached", "squared", "persuaded", "dissuaded", "hinged",
		"binged", "infringed":
		b = strings.TrimSuffix(w, "d")
	// No silent "e" although the rules would add one.
	case "synced":
		b = "sync"
	case "focused", "focussed":
		b = "focus"
	case "biased", "biassed":
		b = "bias"
	case "aliased":
		b = "alias"
	case "developed":
		b = "develop"
	case "enveloped":
		b = "envelop"
	case "galloped":
		b = "gallop"
	case "walloped":
		b = "wallop"
	case "gossiped":
		b = "gossip"
	case "worshiped":
		b = "worship"
	case "debuted":
		b = "debut"
	case "combated":
		b = "combat"
	case "cataloged":
		b = "catalog"
	case "hanged":
		b = "hang"
	case "banged":
		b = "bang"
	// British doubled consonants of verbs that end in one.
	case "cancelled":
		b = "cancel"
	case "labelled":
		b = "label"
	case "modelled":
		b = "model"
	case "travelled":
		b = "travel"
	case "signalled":
		b = "signal"
	case "levelled":
		b = "level"
	case "totalled":
		b = "total"
	case "fuelled":
		b = "fuel"
	case "controlled":
		b = "control"
	case "patrolled":
		b = "patrol"
	case "compelled":
		b = "compel"
	case "expelled":
		b = "expel"
	case "propelled":
		b = "propel"
	case "impelled":
		b = "impel"
	case "repelled":
		b = "repel"
	case "dispelled":
		b = "dispel"
	case "excelled":
		b = "excel"
	case "rebelled":
		b = "rebel"
	case "channelled":
		b = "channel"
	case "tunnelled":
		b = "tunnel"
	case "funnelled":
		b = "funnel"
	case "marvelled":
		b = "marvel"
	case "quarrelled":
		b = "quarrel"
	case "counselled":
		b = "counsel"
	case "parcelled":
		b = "parcel"
	case "panelled":
		b = "panel"
	case "dialled":
		b = "dial"
	case "equalled":
		b = "equal"
	case "rivalled":
		b = "rival"
	case "pedalled":
		b = "pedal"
	case "annulled":
		b = "annul"
	case "marshalled":
		b = "marshal"
	case "unmarshalled":
		b = "unmarshal"
	case "quizzed":
		b = "quiz"
	case "padded":
		b = "pad"
	case "erred":
		b = "err"
	// "ck" for a final "c".
	case "panicked":
		b = "panic"
	case "trafficked":
		b = "traffic"
	case "mimicked":
		b = "mimic"
	case "picnicked":
		b = "picnic"
	default:
		return "", false
	}
	return b, true
}
