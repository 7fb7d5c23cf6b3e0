"""Abuse lexicons and patterns: insults, profanity aimed at staff, threats, harassment and hate.

Precision first: words that customers use about a product or process ("useless app", "rubbish service",
"this is a scam", "damn app", "what the fuck is going on") are not listed as abuse on their own. Patterns are
(label, trigger words, regex); a regex runs on the de-obfuscated token string (single spaces, lower case,
contractions expanded: "i'll" -> "i will") only when one of its space-separated trigger words is a token.
"""

from __future__ import annotations

# Abusive wherever they appear, unless self-directed ("I felt like an idiot").
STRONG_INSULTS = frozenset({
    "idiot", "idiots", "moron", "morons", "imbecile", "imbeciles", "bastard", "bastards", "bitch", "bitches",
    "asshole", "assholes", "arsehole", "arseholes", "scumbag", "scumbags", "dickhead", "dickheads", "cunt",
    "cunts", "motherfucker", "motherfuckers", "wanker", "wankers", "twat", "twats", "jackass", "jackasses",
    "dimwit", "dimwits", "nitwit", "nitwits", "halfwit", "halfwits", "cretin", "cretins", "dumbass",
    "dumbasses", "retard", "retards", "mumu", "mumus", "werey", "weyrey", "oloshi", "olodo", "ashawo",
    "poes", "doos", "fucker", "fuckers", "shithead", "shitheads",
})

# Insulting only when aimed at someone ("you are all thieves", "bunch of liars"), not "is this a scam?".
WEAK_INSULTS = frozenset({
    "stupid", "dumb", "fool", "fools", "foolish", "clown", "clowns", "liar", "liars", "thief", "thieves",
    "scammer", "scammers", "fraudster", "fraudsters", "crook", "crooks", "criminal", "criminals", "loser",
    "losers", "pig", "pigs", "dog", "dogs", "goat", "goats", "animal", "animals", "monkey", "monkeys",
    "trash", "garbage", "rats", "snakes", "devils", "dick", "prick", "pricks", "ewu",
})

# Words that intensify an insult but are not one ("you fucking idiots", "bunch of useless liars").
INTENSIFIERS = frozenset({
    "fucking", "fuckin", "fking", "effing", "bloody", "useless", "incompetent", "absolute", "complete",
    "total", "stupid", "dumb", "lying", "thieving", "damn", "damned", "shitty", "pathetic", "silly",
    "wicked", "foolish", "dirty", "sick", "utter", "greedy",
})

# Canonical spellings that masked or leet tokens are matched against ("f**k", "sh1t", "b!tch").
PROFANITY = frozenset({
    "fuck", "fucks", "fucked", "fucker", "fuckers", "fucking", "fuckin", "motherfucker", "motherfuckers",
    "shit", "shits", "shitty", "bullshit", "shithead", "bitch", "bitches", "asshole", "assholes", "arsehole",
    "bastard", "bastards", "cunt", "cunts", "dick", "dickhead", "wanker", "twat", "prick", "idiot", "idiots",
    "moron", "morons", "stupid", "retard", "poes", "piss", "crap", "damn", "nigger", "niggers", "kaffir",
    "kaffirs", "faggot", "faggots",
})

# Misspellings folded onto canonical words (after leet decoding).
VARIANTS = {
    "fuk": "fuck", "fck": "fuck", "fuq": "fuck", "phuck": "fuck", "fuc": "fuck", "fcuk": "fuck",
    "fukin": "fucking", "fuking": "fucking", "fcking": "fucking", "fckin": "fucking", "fkin": "fucking",
    "fukking": "fucking", "phucking": "fucking", "fkn": "fucking", "fuckn": "fucking", "fucken": "fucking",
    "sht": "shit", "shyt": "shit", "biatch": "bitch", "biyatch": "bitch", "azzhole": "asshole",
    "ashole": "asshole", "idiots": "idiots", "idoit": "idiot", "idot": "idiot", "mumuu": "mumu",
    "fokken": "fucking", "bastad": "bastard", "basterd": "bastard", "thiefs": "thieves",
    "u": "you", "ya": "you", "yu": "you", "ur": "your", "yur": "your", "r": "are",
}

HATE_SLURS = frozenset({
    "nigger", "niggers", "nigga", "niggas", "kaffir", "kaffirs", "kaffer", "kaffers", "coolie", "coolies",
    "hotnot", "hotnots", "makwerekwere", "kwerekwere", "faggot", "faggots", "tranny", "chink", "chinks",
})

STAFF_NOUNS = (r"(?:staff|agents?|people|team|support|company|customer (?:service|care)|management|managers?|"
               r"guys|workers|employees|riders?|delivery (?:guy|man|men|boy)s?|ceo|boss|reps?|representatives?|"
               r"operators?|lot|folks|organi[sz]ation|firm|office|brand|business)")

_PERSON = (r"(?:you|una|you all|all of you|any of you|one of you|him|her|them|everyone|everybody|anybody|anyone|"
           r"someone|somebody|whoever)")
_YOUR_TARGET = (r"(?:your\s+(?:\w+\s+)?(?:staff|agents?|people|team|office|shop|store|warehouse|building|house|"
                r"family|ceo|boss|manager|riders?|delivery (?:guy|man|boy)|workers|employees|children|kids))")
# a member of staff named by role: "that agent", "the next consultant", "that your rider" (Pidgin)
_STAFF_TARGET = (r"(?:(?:that|the|this|una|your|that your)\s+(?:\w+\s+){0,2}?(?:agent|consultant|rider|driver|manager|"
                 r"staff|cashier|delivery (?:guy|man|boy)|girl|guy|lady|woman|man|person|whoever)s?)")
_FUTURE = (r"(?:i|we|my (?:boys|people|guys|brothers)|someone|somebody)\s+(?:will|shall|would|am going to|"
           r"are going to|going to|am gonna|gonna|go|must|can)\s+")

THREAT_PATTERNS: tuple[tuple[str, str, str], ...] = (
    ("kill/hurt", "kill murder shoot stab hurt harm rape kidnap strangle bomb torch behead",
     rf"\b(?:kill|murder|shoot|stab|hurt|harm|rape|kidnap|strangle|bomb|torch|behead)\s+"
     rf"(?:{_PERSON}|{_YOUR_TARGET}|the (?:agent|staff|rider|manager)|that (?:agent|rider|guy))\b"),
    ("violent intent",
     "kill murder shoot stab hurt harm beat slap punch smash break burn destroy deal finish scatter moer bliksem "
     "attack come donner klap wound",
     rf"\b{_FUTURE}(?:\w+\s+){{0,8}}?(?:kill|murder|shoot|stab|hurt|harm|beat|slap|punch|"
     rf"smash|break|burn|destroy|deal with|finish|scatter|moer|bliksem|donner|klap|wound|attack|come for)\s+"
     rf"(?:up\s+)?(?:{_PERSON}|{_YOUR_TARGET}|{_STAFF_TARGET}|everything|every\s?thing|the place|that place|"
     rf"your office|the office|that office|una office|una shop|down)\b"),
    ("find you", "find hunt track locate",
     rf"\b{_FUTURE}(?:\w+\s+){{0,2}}?(?:find|hunt|track|locate)\s+(?:down\s+)?(?:you|una|whoever|{_YOUR_TARGET}|"
     rf"{_STAFF_TARGET})"
     rf"(?!\s+(?:on|online|in the|at the|via|through))\b"),
    ("find you myself", "find",
     r"\bfind (?:you|u) my\s?self\b"),
    ("burn the premises", "burn torch blow set bomb",
     r"\b(?:burn|torch|blow up|set fire to|bomb)\s+(?:down\s+)?(?:your|the|that)\s+"
     r"(?:\w+\s+)?(?:office|shop|store|warehouse|building|house|place|premises|company)\b"
     r"|\bburn (?:it|everything|the place|you) down\b"),
    ("veiled threat", "watch days regret pay hit do suffer dealing",
     r"\b(?:watch your back|your days are numbered|you will regret|you would regret|"
     r"you will pay for this|you won't know what hit you|you will not know what hit you|"
     r"what i will do to you|you will see what i will do|i will make you suffer|"
     r"you don't know who you are dealing with|you do not know who you are dealing with)\b"),
    # threats without a violent word: promises to visit, wait for, "sort out" or get back at staff
    ("visit or wait for staff", "pay paying visit waiting coming come",
     rf"\b(?:pay|paying) (?:you|una|{_YOUR_TARGET}|{_STAFF_TARGET}) a (?:little |personal )?visit\b"
     r"|\b(?:i|we) (?:will|shall) be waiting (?:outside|for (?:you|una|him|her|them|your \w+) (?:outside|after|when))\b"
     r"|\b(?:i|we) (?:am|are|dey) coming for (?:you|una|him|her|them|your \w+)\b|\bi dey come for (?:you|una)\b"),
    ("sort you out", "sort",
     rf"\b{_FUTURE}(?:\w+\s+){{0,8}}?sort\s+(?:out\s+(?:{_PERSON}|{_YOUR_TARGET}|{_STAFF_TARGET})\s+"
     rf"(?:personally|myself|ourselves)|(?:you|una|him|her|them|{_YOUR_TARGET}|{_STAFF_TARGET})\s+out)\b"),
    ("get back at staff", "watch backs back regret pay suffer sorry happens happen hurt hope pray meet",
     r"\bwatch (?:your|his|her|their) backs?\b"
     r"|\b(?:better|to|must|should) watch (?:yourself|yourselves|himself|herself|themselves)\b"
     r"|\bmake (?:you|una|them|him|her|your \w+) (?:regret|suffer|sorry|pay(?!\s+(?:for|the|back|me|us|it)))\b"
     r"|\b(?:you|he|she|they|una) (?:will|go|are going to|is going to) be sorry\b"
     r"|\bsee what (?:happens|will happen) to (?:you|una|him|her|them|your \w+)\b"
     r"|\b(?:someone|somebody|people|you|your \w+|he|she) (?:is|are|will|go) (?:going to )?get(?:ting)? hurt\b"
     r"|\bhope (?:i|we) never (?:meet|see|run into|bump into)\b"
     r"|\bpray (?:he|she|they|you) (?:does not|doesn't|do not|never) (?:run into|meet|see|bump into) me\b"),
    ("pidgin threat", "una you go show pepper pain catch",
     r"\b(?:una|you) go (?:regret|see wetin|hear am|hear from)\b|\bi go show (?:una|you)\b"
     r"|\bshow (?:una|you) pepper\b|\be go pain (?:am|una|you|dem)\b"
     r"|\bi go catch (?:that|this|una|the) (?:\w+\s+)?(?:agent|rider|driver|manager|girl|guy|man|woman)\b"),
    ("afrikaans threat", "ek sal gaan",
     r"\bek (?:sal|gaan)\b(?:\s+\w+){0,8}?\s+(?:jou|julle|hom|haar)\s+(?:\w+\s+)?"
     r"(?:bliksem|moer|donder|opneuk|slaan|doodmaak)\b"),
)

HARASSMENT_PATTERNS: tuple[tuple[str, str, str], ...] = (
    ("stalking", "live lives stay stays sleep sleeps life",
     r"\bi know where (?:you|your family|your kids|your children) (?:live|stay|sleep)s?\b"
     r"|\bi will (?:find out|get) where (?:you|u) (?:live|stay)\b"
     r"|\bi will make your life (?:hell|miserable|a living hell)\b"),
    ("sexual", "send show nudes hey hi hello sexy hot single wearing sleep sex boobs breasts ass body",
     r"\b(?:send|show) me (?:your|ur) (?:pic|pics|picture|pictures|photo|photos|nudes|body|boobs)\b"
     r"|\bnudes\b|\b(?:hey|hi|hello) (?:sexy|hottie|baby girl|sweet ?heart)\b|\bsexy (?:agent|lady|girl)\b"
     r"|\byou (?:are|look|sound) (?:so |very )?(?:sexy|hot)\b|\bare you single\b"
     r"|\bwhat are you wearing\b|\b(?:sleep|have sex) with (?:you|u|me)\b"
     r"|\byour (?:boobs|breasts|ass|body)\b"),
)

PROFANITY_AT_STAFF_PATTERNS: tuple[tuple[str, str, str], ...] = (
    ("curse at", "fuck screw damn f fk fokof voetsek stfu gtfo",
     r"\b(?:fuck|screw)\s+(?:you|yourself|yourselves|off|your\s+\w+|all of you|this company|izonie|"
     r"alkonect|conek)\b|\bdamn\s+(?:you|yourself)\b|(?:^|[.!?;]\s)(?:f|fk)\s+(?:you|yourself|off)\b"
     r"|\b(?:fokof|voetsek|stfu|gtfo)\b"),
    ("go to hell", "hell die piss kiss shit yours suck bite shut poes mother's",
     r"\b(?:go to hell|go and die|go die|rot in hell|burn in hell|piss off|kiss my (?:ass|arse)|"
     r"eat shit|up yours|suck my \w+|bite me|shut up you|shut your (?:mouth|trap)|"
     r"jou ma se poes|your mother's \w+)\b"),
    ("profane address", "fucking fuckin fking effing shitty piece pieces",
     rf"\byou\s+(?:fucking|fuckin|fking|effing|shitty)\b|\byou (?:piece|pieces) of shit\b"
     rf"|\byour\s+(?:fucking|fuckin|fking|shitty)\s+{STAFF_NOUNS}\b"),
    ("your mother", "mother mama papa father mum",
     r"\b(?:your|ur) (?:mother|mama|papa|father|mum)(?:\s*[.!?]|\s*$|\s+(?:is a|na|sef))"),
)

HATE_PATTERNS: tuple[tuple[str, str, str], ...] = (
    ("group slur",
     "thieves scammers criminals animals dogs monkeys idiots liars fraudsters savages terrorists rats cockroaches "
     "vermin filth",
     r"\b(?:igbo|ibo|yoruba|hausa|fulani|nigerian|south african|zulu|xhosa|venda|indian|chinese|"
     r"white|black|foreigner|immigrant|muslim|christian|jew|gay)s?\s+(?:people\s+)?(?:are|is)\s+"
     r"(?:all\s+)?(?:thieves|scammers|criminals|animals|dogs|monkeys|idiots|liars|fraudsters|"
     r"savages|terrorists|rats|cockroaches|vermin|filth)\b"),
    ("go back", "back",
     r"\bgo back to (?:your|ur) (?:country|village|bush)\b"),
)
