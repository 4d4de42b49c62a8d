package export

import (
	"strings"
	"sync"

	"github.com/privacyportal/portal/internal/privacy"
)

// text is a sentence in English and Simplified Chinese.
type text struct{ en, zh string }

func (t text) in(locale string) string {
	if locale == privacy.LocaleChinese {
		return t.zh
	}
	return t.en
}

// field says what one attribute of an item means.
type field struct {
	text
	// withheld attributes are not exported: a secret (a hash of a password, a code or a
	// token, which could be attacked offline or would identify a live session) or an internal
	// index key. The export still says that they exist.
	withheld bool
	// unixTime attributes are seconds since 1970: the CSV writes them as a date for people.
	unixTime bool
}

// kind says what the items of one kind are, what each of their attributes means, and which
// purpose of the catalogue they serve.
type kind struct {
	name, about text
	// purpose is the catalogue purpose the items serve; "" for OPTIONAL, whose items each
	// serve the purpose of the optional field their sort key names.
	purpose string
	// secretKey: the sort key holds a secret (a session is keyed by its token's hash), so the
	// export numbers the items instead of showing their keys.
	secretKey bool
	fields    map[string]field
}

// kindOptional is the kind of the optional profile fields (OPTIONAL#<field>).
const kindOptional = "OPTIONAL"

var (
	whenText       = text{"When.", "时间。"}
	expiresText    = text{"When it stops working.", "失效时间。"}
	codeHashText   = text{"A one-way hash of the code we mailed. Left out for your security: it could be used to guess the code.", "我们所发送验证码的单向哈希值。为保障您的安全，本副本不包含该值：它可能被用来推测验证码。"}
	tokenHashText  = text{"A one-way hash of the link we mailed. Left out for your security.", "我们所发送链接的单向哈希值。为保障您的安全，本副本不包含该值。"}
	lookupKeyText  = text{"An internal look-up key computed from the address (a keyed hash), used only to find the account. Left out: it holds nothing the address does not.", "根据电子邮箱地址计算出的内部查找键（带密钥的哈希值），仅用于找到账户。本副本不包含该值：它不含邮箱地址以外的任何信息。"}
	policyVerText  = text{"The version of the privacy policy in force then.", "当时生效的隐私政策版本。"}
	indexEntryText = text{"An internal index entry: while the account must be activated by a deadline, its place in the list of such accounts; while it is active, its place in the list of active accounts our notices to everyone go to. Left out: it holds nothing about you.", "内部索引项：账户须于期限前启用期间，表示其在此类账户列表中的位置；账户启用期间，表示其在已启用账户列表中的位置（我们向所有人发送的通知以此列表为准）。本副本不包含该值：它不含关于您的任何信息。"}
)

// kinds describes every kind of item the table keeps in a subject's partition, and every
// attribute the adapter writes to them (TestEveryStoredFieldIsDescribed reads the adapter's
// item structs and fails on a missing one). It is built on first use: every function links
// this package through the table's adapter, and only the export worker needs the table.
var kinds = sync.OnceValue(func() map[string]*kind {
	return map[string]*kind{
		"PROFILE": {
			name:    text{"Your profile", "您的个人资料"},
			about:   text{"Your account: who you are, and where the account stands.", "您的账户：您的身份信息，以及账户所处的状态。"},
			purpose: privacy.PurposeService,
			fields: map[string]field{
				"subjectId":         {text: text{"Your account's identifier: random, it says nothing about you.", "您账户的标识符：随机生成，不包含任何关于您的信息。"}},
				"createdAt":         {text: text{"When you registered.", "您注册的时间。"}},
				"name":              {text: text{"Your name.", "您的姓名。"}},
				"email":             {text: text{"Your e-mail address.", "您的电子邮箱地址。"}},
				"username":          {text: text{"Your username.", "您的用户名。"}},
				"locale":            {text: text{"The language we write to you in.", "我们与您联系时使用的语言。"}},
				"ageGroup":          {text: text{"Your age group (under 14, or 14 and over): it decides whether a guardian must consent.", "您的年龄段（未满 14 岁，或 14 岁及以上）：决定是否需要监护人同意。"}},
				"status":            {text: text{"Where the account stands: waiting for your address to be proved, waiting for a guardian, active, or being erased.", "账户状态：等待验证邮箱、等待监护人同意、已启用或正在删除。"}},
				"emailVerified":     {text: text{"Whether you have proved your e-mail address.", "您是否已验证电子邮箱地址。"}},
				"guardianConfirmed": {text: text{"Whether a guardian consented to the account.", "监护人是否已同意开设账户。"}},
				"pendingEmail":      {text: text{"A new e-mail address you asked for, kept until you prove it.", "您申请更换的新电子邮箱地址，在您验证之前保存。"}},
				"emailKey":          {text: lookupKeyText, withheld: true},
				"usernameKey":       {text: text{"An internal look-up key computed from your username (a keyed hash), used only to find the account. Left out: it holds nothing the username does not.", "根据您的用户名计算出的内部查找键（带密钥的哈希值），仅用于找到账户。本副本不包含该值：它不含用户名以外的任何信息。"}, withheld: true},
				"GSI2PK":            {text: indexEntryText, withheld: true},
				"GSI2SK":            {text: indexEntryText, withheld: true},
			},
		},
		"CREDENTIAL": {
			name:    text{"Your password", "您的密码"},
			about:   text{"That you have a password. We keep only a one-way hash of it, never the password.", "您已设置密码。我们只保存密码的单向哈希值，从不保存密码本身。"},
			purpose: privacy.PurposeService,
			fields: map[string]field{
				"passwordHash": {text: text{"A one-way hash of your password (argon2id), with which we check it when you sign in. Left out for your security: a copy could be attacked to guess the password.", "您密码的单向哈希值（argon2id），用于在您登录时核对密码。为保障您的安全，本副本不包含该值：其副本可能被用来破解密码。"}, withheld: true},
			},
		},
		"GUARDIAN": {
			name:    text{"Your guardian's consent", "监护人同意"},
			about:   text{"For the account of someone under 14: the guardian asked to consent, and their decision.", "未满 14 岁者的账户：被请求同意的监护人，以及其决定。"},
			purpose: privacy.PurposeService,
			fields: map[string]field{
				"guardianEmail": {text: text{"The guardian's e-mail address you gave.", "您提供的监护人电子邮箱地址。"}},
				"tokenHash":     {text: tokenHashText, withheld: true},
				"expiresAt":     {text: text{"When the guardian's link stops working.", "监护人链接的失效时间。"}, unixTime: true},
				"decision":      {text: text{"The guardian's decision.", "监护人的决定。"}},
			},
		},
		kindOptional: {
			name:  text{"Optional profile fields", "可选资料字段"},
			about: text{"Details you chose to give. Each is kept only while you consent to its own purpose; the item's key names the field.", "您自愿提供的信息。每一项仅在您同意其对应用途期间保存；条目的键名即字段名。"},
			fields: map[string]field{
				"value":         {text: text{"What you entered.", "您填写的内容。"}},
				"consentedAt":   {text: text{"When you consented to our keeping it.", "您同意我们保存它的时间。"}},
				"policyVersion": {text: policyVerText},
			},
		},
		"CONSENT": {
			name:    text{"Your consent history", "您的同意记录"},
			about:   text{"Every consent you gave or withdrew and every policy version you accepted, in order: the record we act on.", "您给予或撤回的每一项同意，以及您接受的每一个政策版本，按时间排列：我们据此处理您的数据。"},
			purpose: privacy.PurposeService,
			fields: map[string]field{
				"purpose":       {text: text{"The purpose of our catalogue the entry is about.", "该记录涉及的用途（见我们的用途目录）。"}},
				"action":        {text: text{"What you did: grant, withdraw, or accept a policy version.", "您的操作：同意、撤回或接受某一政策版本。"}},
				"granted":       {text: text{"Whether the purpose was allowed after the entry.", "该记录之后此用途是否获得允许。"}},
				"consentedAt":   {text: whenText},
				"policyVersion": {text: policyVerText},
				"policySha256":  {text: text{"The SHA-256 fingerprint of that policy's text, which shows exactly what you were shown.", "该政策文本的 SHA-256 指纹，准确表明您当时看到的内容。"}},
				"source":        {text: text{"Where the choice was made: registration, the account page, the consent centre, the cookie banner, a browser signal, an unsubscribe link, a guardian…", "作出选择的位置：注册、账户页面、同意中心、Cookie 横幅、浏览器信号、退订链接、监护人等。"}},
				"receiptId":     {text: text{"The consent receipt we mailed you for the change.", "我们就此变更向您发送的同意回执编号。"}},
				"signals":       {text: text{"The browser privacy signals present (Global Privacy Control, Do Not Track).", "当时存在的浏览器隐私信号（全球隐私控制、请勿追踪）。"}},
			},
		},
		"VERIFY": {
			name:    text{"Codes waiting to be used", "待使用的验证码"},
			about:   text{"A code or link we mailed you that has not been used yet: to prove an address, reset a password or confirm a request. The item's key says which.", "我们发送给您但尚未使用的验证码或链接：用于验证邮箱、重置密码或确认请求。条目的键名表示其用途。"},
			purpose: privacy.PurposeService,
			fields: map[string]field{
				"codeHash":    {text: codeHashText, withheld: true},
				"tokenHash":   {text: tokenHashText, withheld: true},
				"attempts":    {text: text{"How many wrong codes were tried.", "已尝试的错误验证码次数。"}},
				"expiresAt":   {text: expiresText, unixTime: true},
				"newEmail":    {text: text{"The new e-mail address being proved.", "正在验证的新电子邮箱地址。"}},
				"newEmailKey": {text: lookupKeyText, withheld: true},
			},
		},
		"SESSION": {
			name:      text{"Signed-in browsers", "已登录的浏览器"},
			about:     text{"Each browser signed in to your account. A session is known by a one-way hash of its cookie, which is left out for your security: the items are numbered instead.", "登录您账户的每个浏览器。会话以其 Cookie 的单向哈希值识别；为保障您的安全，本副本不包含该值，改为给条目编号。"},
			purpose:   privacy.PurposeService,
			secretKey: true,
			fields: map[string]field{
				"createdAt": {text: text{"When you signed in.", "您登录的时间。"}},
				"expiresAt": {text: text{"When the session ends.", "会话结束的时间。"}, unixTime: true},
			},
		},
		"AUDIT": {
			name:    text{"Account history", "账户历史"},
			about:   text{"A record of the changes to your data: what was done and to which fields, never their values.", "您数据的变更记录：执行了什么操作、涉及哪些字段，从不记录字段的值。"},
			purpose: privacy.PurposeService,
			fields: map[string]field{
				"createdAt": {text: whenText},
				"action":    {text: text{"What was done.", "执行的操作。"}},
				"fields":    {text: text{"The fields it changed.", "涉及的字段。"}},
				"expiresAt": {text: text{"When the entry is deleted: it is kept for a set period after the change.", "该记录的删除时间：变更后保存一段规定的期限。"}, unixTime: true},
			},
		},
		"REQUEST": {
			name:    text{"Your requests", "您的请求"},
			about:   text{"The requests you made about your data (to see, correct, delete or copy it, and the others), with every step, the answer and its due date.", "您就个人数据提出的请求（查阅、更正、删除、复制等），以及每一个处理步骤、答复和答复期限。"},
			purpose: privacy.PurposeService,
			fields: map[string]field{
				"type":             {text: text{"What you asked for.", "您请求的内容。"}},
				"status":           {text: text{"Where the request stands.", "请求的处理状态。"}},
				"email":            {text: text{"The address we answer the request at.", "我们答复该请求所用的电子邮箱地址。"}},
				"locale":           {text: text{"The language we answer in.", "我们答复时使用的语言。"}},
				"receivedAt":       {text: text{"When we received it.", "我们收到请求的时间。"}},
				"dueAt":            {text: text{"When the answer is due at the latest.", "最迟答复期限。"}},
				"details":          {text: text{"What the request is about, in your words.", "您对请求内容的描述。"}},
				"ground":           {text: text{"The ground you gave for a deletion.", "您提出删除请求所依据的理由。"}},
				"thirdParty":       {text: text{"The address you asked a copy of your data to be sent to as well.", "您要求另行发送数据副本的电子邮箱地址。"}},
				"steps":            {text: text{"Every step of the request, with its time.", "请求的每一个处理步骤及其时间。"}},
				"refusalGround":    {text: text{"If we refused the request: the ground.", "如果我们拒绝了请求：所依据的理由。"}},
				"refusalReason":    {text: text{"If we refused the request: why, in plain words.", "如果我们拒绝了请求：具体原因说明。"}},
				"outcome":          {text: text{"Our answer.", "我们的答复。"}},
				"repeat":           {text: text{"Whether it repeats a request of the same kind made shortly before.", "是否在短期内重复提出同类请求。"}},
				"reminded":         {text: text{"The reminders of its due date we sent our staff.", "我们就答复期限向工作人员发出的提醒。"}},
				"overdue":          {text: text{"Whether the answer went past its due date.", "答复是否超过了期限。"}},
				"version":          {text: text{"How many times the request was updated.", "请求被更新的次数。"}},
				"exportKey":        {text: text{"Where a copy of your data is stored for you to download: an internal name. Left out: it holds nothing about you.", "供您下载的数据副本的存储位置（内部名称）。本副本不包含该值：它不含关于您的任何信息。"}, withheld: true},
				"exportBytes":      {text: text{"The size of the copy, in bytes.", "副本的大小（字节）。"}},
				"exportItems":      {text: text{"How many items the copy holds.", "副本包含的条目数。"}},
				"exportExpiresAt":  {text: text{"When the copy is deleted.", "副本的删除时间。"}},
				"exportMailed":     {text: text{"Whether we mailed you the link to the copy.", "我们是否已向您发送副本的下载链接。"}},
				"exportUsed":       {text: text{"Whether the link to the copy was used.", "副本的下载链接是否已被使用。"}},
				"shareMailed":      {text: text{"Whether we mailed you the request to confirm that the copy goes to the third party.", "我们是否已向您发送确认将副本发送给第三方的邮件。"}},
				"shared":           {text: text{"Whether you confirmed that the copy goes to the third party.", "您是否已确认将副本发送给第三方。"}},
				"thirdPartyMailed": {text: text{"Whether we mailed the third party its link.", "我们是否已向第三方发送其下载链接。"}},
				"thirdPartyUsed":   {text: text{"Whether the third party's link was used.", "第三方的下载链接是否已被使用。"}},
				"GSI1PK":           {text: text{"An internal index entry, set while the request is open: our staff's queue. Left out: it holds nothing about you.", "内部索引项，在请求处理期间设置，即工作人员的待办队列。本副本不包含该值：它不含关于您的任何信息。"}, withheld: true},
				"GSI1SK":           {text: text{"The request's place in our staff's queue (its due date): an internal index entry. Left out: the due date is above.", "请求在工作人员待办队列中的位置（按答复期限），属内部索引项。本副本不包含该值：答复期限见上文。"}, withheld: true},
				"expiresAt":        {text: text{"When the request is deleted: for a request not yet confirmed, unless you confirm it; for an answered one, a set period after its answer. A request still being answered has none.", "请求的删除时间：尚未确认的请求，如您未确认即被删除；已答复的请求，在答复后保存一段规定的期限。正在处理的请求没有此项。"}, unixTime: true},
			},
		},
		"DECISION": {
			name:    text{"Automated decisions", "自动化决策"},
			about:   text{"Decisions about you that a program made without a person, with what it decided from, so that you may ask us to explain one.", "程序在无人参与的情况下就您作出的决策，以及决策所依据的信息，以便您要求我们作出解释。"},
			purpose: privacy.PurposeService,
			fields: map[string]field{
				"decidedAt":    {text: whenText},
				"name":         {text: text{"Which decision it was.", "决策的名称。"}},
				"logicVersion": {text: text{"The version of the rules that made it.", "作出该决策的规则版本。"}},
				"inputs":       {text: text{"What it was decided from.", "决策所依据的信息。"}},
				"outcome":      {text: text{"What was decided.", "决策的结果。"}},
			},
		},
		"DELIVERY": {
			name:    text{"Notices and campaigns sent to you", "向您发送的通知和推广邮件"},
			about:   text{"Each of our mailings to many people (a breach notice, a policy update, a marketing campaign you agreed to) that was or is to be sent to you, and how it went: kept so that no one gets one twice and no one is left out. The item's key names the mailing.", "我们向众多用户发送的每一封群发邮件（数据泄露通知、政策更新通知、您同意接收的推广邮件）中已发送或待发送给您的一封，以及其发送结果：保存这些记录是为了确保每人只收到一次、无人遗漏。条目的键名即该群发邮件的编号。"},
			purpose: privacy.PurposeService,
			fields: map[string]field{
				"campaign":  {text: text{"Which mailing it is.", "所属的群发邮件。"}},
				"state":     {text: text{"How it went: waiting, being sent, sent, refused by the mail server, not sent because the address bounced or complained before, or not sent (no consent when it was sent, or the account closed).", "发送结果：等待发送、正在发送、已发送、被邮件服务器拒收、因该地址此前退信或投诉而未发送，或未发送（发送时未获同意，或账户已关闭）。"}},
				"owner":     {text: text{"While it is being sent: which run of our sender holds it, so that no other sends it too (an internal name that says nothing about you).", "正在发送期间：占用它的发送程序运行编号，以免重复发送（内部名称，不含关于您的任何信息）。"}},
				"claimed":   {text: text{"While it is being sent: when our sender took it up (milliseconds since 1970, UTC).", "正在发送期间：我们的发送程序接手它的时间（自 1970 年起的毫秒数，UTC）。"}},
				"created":   {text: text{"When it was planned.", "计划发送的时间。"}},
				"ended":     {text: text{"When it was sent, or given up.", "发送或放弃发送的时间。"}},
				"expiresAt": {text: text{"When the record is deleted: it is kept for a set period after it was sent.", "该记录的删除时间：发送后保存一段规定的期限。"}, unixTime: true},
			},
		},
		"USEDLINK": {
			name:    text{"Used one-time links", "已使用的一次性链接"},
			about:   text{"The one-click unsubscribe links of our mail that have been used, kept so that each works once.", "我们邮件中已使用的一键退订链接；保存这些记录是为了让每个链接只能使用一次。"},
			purpose: privacy.PurposeService,
			fields: map[string]field{
				"usedAt": {text: text{"When it was used.", "使用的时间。"}},
			},
		},
	}
})

// undescribed is what the export says of a kind, an attribute or a purpose it does not know.
var undescribed = text{"(No description yet.)", "（暂无说明。）"}

// describe returns what the attribute name of an item of kind k means. An attribute the
// table does not know is exported with no description, unless its name says it is a hash:
// then it is withheld, so that a secret added to the adapter before the table is updated
// does not leak (TestEveryStoredFieldIsDescribed catches the omission first).
func describe(k, name string) field {
	if kd, ok := kinds()[k]; ok {
		if f, ok := kd.fields[name]; ok {
			return f
		}
	}
	return field{text: undescribed, withheld: strings.HasSuffix(strings.ToLower(name), "hash")}
}
