/** The .NET surface policy expressions see (issue 5 item 2), value by value against what .NET gives. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { SourceFile } from '../../core/source.js';
import { compileExpression, ExpressionError, toPolicyString } from '../index.js';
import { makeTestHost, type TestHostOptions } from '../testing.js';

function ev(src: string, host: TestHostOptions = {}): unknown {
  const r = compileExpression(src, { file: new SourceFile('t.xml', src), offset: 0 });
  assert.deepEqual(r.diagnostics.map((d) => `${d.code} ${d.message}`), [], src);
  return r.expression!.evaluate(makeTestHost({ now: new Date('2024-02-02T08:39:43.123Z'), ...host }));
}
const s = (src: string, host: TestHostOptions = {}) => toPolicyString(ev(src, host));
function fails(src: string, type: string, host: TestHostOptions = {}): void {
  assert.throws(() => ev(src, host), (e: unknown) => e instanceof ExpressionError && e.exceptionType === type, src);
}

test('string: members, Split options, Format with composite formats, Join, PadLeft, Trim chars', () => {
  assert.equal(ev('@("a,b,,c".Split(\',\').Length)'), 4);
  assert.equal(ev('@("a,b,,c".Split(new[] { \',\' }, StringSplitOptions.RemoveEmptyEntries).Length)'), 3);
  assert.equal(ev('@("a, b;c".Split(\',\', \';\')[2])'), 'c');
  assert.equal(ev('@("a::b::c".Split(new[] { "::" }, StringSplitOptions.None)[1])'), 'b');
  assert.equal(ev('@("a b".Split(\' \', 2)[1])'), 'b');
  assert.equal(ev('@(string.Format("{0}-{1:D3}-{2,4}|{0}", "x", 7, "y"))'), 'x-007-   y|x');
  assert.equal(ev('@(String.Format("{{{0}}}", 1))'), '{1}');
  assert.equal(ev('@(string.Join("|", new List<string> { "a", "b" }))'), 'a|b');
  assert.equal(ev('@(string.Concat("a", 1, true))'), 'a1True');
  assert.equal(ev('@("7".PadLeft(3, \'0\') + "x".PadRight(3) + "|")'), '007x  |');
  assert.equal(ev('@("--a--".Trim(\'-\'))'), 'a');
  assert.equal(ev('@("  a  ".TrimStart() + "|")'), 'a  |');
  assert.equal(ev('@("Hello".Substring(1, 3).ToUpper())'), 'ELL');
  assert.equal(ev('@("Hello".Replace("l", "L"))'), 'HeLLo');
  assert.equal(ev('@("Hello".Contains("ell") && "Hello".EndsWith("lo"))'), true);
  assert.equal(ev('@("Hello".IndexOf(\'l\') + "Hello".LastIndexOf("l"))'), 5);
  assert.equal(ev('@("Hello".Remove(2) + "Hello".Insert(0, ">"))'), 'He>Hello');
  assert.equal(ev('@(new string(\'-\', 3) + new string(new[] { \'a\', \'b\' }))'), '---ab');
  assert.equal(ev('@("abc".ToCharArray().Reverse().ToArray().Length)'), 3);
  assert.equal(ev('@(string.Empty.Length + "".Length)'), 0);
  assert.equal(ev('@(string.IsNullOrEmpty(null) && !string.IsNullOrEmpty(" ") && string.IsNullOrWhiteSpace(" \\t"))'), true);
  assert.equal(ev('@(char.IsDigit(\'5\') && char.IsLetter("a1", 0) && char.IsUpper(\'A\') && !char.IsWhiteSpace(\'x\'))'), true);
  assert.equal(ev('@(char.ToUpper(\'a\'))'), 'A');
  assert.equal(ev('@("abc".Select(c => (int)c).Sum())'), 294);
  assert.equal(ev('@("a-b".Any(char.IsPunctuation))'), true);
});

test('numbers: Parse, TryParse, ToString formats, Math, Convert', () => {
  assert.equal(ev('@(int.Parse(" 42 ") + long.Parse("-1"))'), 41);
  assert.equal(ev('@(double.Parse("1.5e3"))'), 1500);
  assert.equal(ev('@(decimal.Parse("12.50") * 2)'), 25);
  assert.equal(ev('@(bool.Parse("TRUE"))'), true);
  assert.equal(ev('@{ int n; var ok = int.TryParse("x", out n); return ok + ":" + n; }'), 'False:0');
  assert.equal(ev('@(1234567.891.ToString("N2"))'), '1,234,567.89');
  assert.equal(ev('@(0.5.ToString("P0") + "|" + 3.ToString("D4") + "|" + 255.ToString("x") + "|" + 1.5.ToString("F3"))'), '50%|0003|ff|1.500');
  assert.equal(ev('@(1234.5.ToString("C") + (-2).ToString("C"))'), '$1,234.50($2.00)');
  assert.equal(ev('@((0.1m + 0.2m).ToString() + "|" + (0.1 + 0.2 == 0.3) + "|" + (1.1m * 3))'), '0.3|False|3.3');
  assert.equal(ev('@(12.3456.ToString("0.00") + "|" + 5.ToString("000") + "|" + 1234.5.ToString("#,##0.0"))'), '12.35|005|1,234.5');
  assert.equal(ev('@((0.1 + 0.2).ToString())'), '0.30000000000000004');
  assert.equal(ev('@(1e21.ToString())'), '1E+21');
  assert.equal(ev('@(Math.Round(2.5) + Math.Round(3.5) + Math.Round(2.5, MidpointRounding.AwayFromZero))'), 2 + 4 + 3);
  assert.equal(ev('@(Math.Round(1.005, 2))'), 1);
  assert.equal(ev('@(Math.Max(3, 7) + Math.Min(-1, 2) + Math.Abs(-5) + Math.Floor(2.7) + Math.Ceiling(2.1) + Math.Pow(2, 10))'), 7 - 1 + 5 + 2 + 3 + 1024);
  assert.equal(ev('@(Convert.ToInt32("123") + Convert.ToInt32(2.5) + Convert.ToInt32(3.5) + Convert.ToInt32(true))'), 123 + 2 + 4 + 1);
  assert.equal(ev('@(Convert.ToInt32("ff", 16) + Convert.ToByte("10", 2))'), 257);
  assert.equal(ev('@(Convert.ToString(255, 16) + Convert.ToString(5, 2))'), 'ff101');
  assert.equal(ev('@(Convert.ToDouble("2.5") + Convert.ToInt64("9"))'), 11.5);
  assert.equal(ev('@(Convert.ToBoolean("false"))'), false);
  fails('@(Convert.ToInt32("abc"))', 'System.FormatException');
  fails('@(Convert.ToByte(300))', 'System.OverflowException');
  assert.equal(ev('@(BitConverter.ToString(new byte[] { 1, 171, 255 }))'), '01-AB-FF');
  assert.equal(ev('@(BitConverter.ToInt32(new byte[] { 1, 0, 0, 0 }, 0))'), 1);
});

test('Convert base64, Encoding UTF8/ASCII/Unicode', () => {
  assert.equal(ev('@(Convert.ToBase64String(Encoding.UTF8.GetBytes("héllo")))'), Buffer.from('héllo').toString('base64'));
  assert.equal(ev('@(Encoding.UTF8.GetString(Convert.FromBase64String("aMOpbGxv")))'), 'héllo');
  assert.equal(ev('@(Encoding.ASCII.GetString(Encoding.ASCII.GetBytes("hé")))'), 'h?');
  assert.equal(ev('@(Encoding.Unicode.GetBytes("ab").Length)'), 4);
  assert.equal(ev('@(Encoding.UTF8.GetByteCount("€"))'), 3);
  assert.equal(ev('@(Convert.FromBase64String(" aGk=\\r\\n").Length)'), 2);
  fails('@(Convert.FromBase64String("aGk"))', 'System.FormatException');
  fails('@(Convert.FromBase64String("a*Gk"))', 'System.FormatException');
  assert.equal(ev('@(Convert.ToBase64String(new byte[] { 1, 2, 3, 4 }, 1, 2))'), 'AgM=');
});

test('WebUtility and Uri: + and % exactly as .NET treats them', () => {
  assert.equal(ev('@(System.Net.WebUtility.UrlDecode("a+b%2B%20c"))'), 'a b+ c');
  assert.equal(ev('@(Uri.UnescapeDataString("a+b%2B%20c"))'), 'a+b+ c');
  assert.equal(ev('@(WebUtility.UrlEncode("a b&c=d/é"))'), 'a+b%26c%3Dd%2F%C3%A9');
  assert.equal(ev('@(Uri.EscapeDataString("a b&c=d/é~*"))'), 'a%20b%26c%3Dd%2F%C3%A9~%2A');
  assert.equal(ev('@(WebUtility.HtmlEncode("<a href=\'x\'>&</a>"))'), '&lt;a href=&#39;x&#39;&gt;&amp;&lt;/a&gt;');
  assert.equal(ev('@(WebUtility.HtmlDecode("&lt;&#65;&#x42;&amp;&quot;"))'), '<AB&"');
  assert.equal(ev('@(WebUtility.UrlDecode(null) == null)'), true);
  assert.equal(ev('@(new Uri("https://h.example:8443/a/b?x=1#f").Port)'), 8443);
  assert.equal(ev('@(new Uri("https://h.example/a/b?x=1").PathAndQuery)'), '/a/b?x=1');
  assert.equal(ev('@(new Uri("https://h.example/a/b?x=1").GetLeftPart(UriPartial.Authority))'), 'https://h.example');
  assert.equal(ev('@(new Uri("https://h.example/a/b/").Segments.Length)'), 3);
  assert.equal(ev('@(Uri.IsWellFormedUriString("https://x", UriKind.Absolute) && !Uri.IsWellFormedUriString("no uri", UriKind.Absolute))'), true);
  fails('@(new Uri("not a uri"))', 'System.UriFormatException');
});

test('DateTime, DateTimeOffset, TimeSpan: arithmetic, formats, parsing', () => {
  assert.equal(ev('@(DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ss.fffZ"))'), '2024-02-02T08:39:43.123Z');
  assert.equal(ev('@(DateTime.UtcNow.ToString("o"))'), '2024-02-02T08:39:43.1230000Z');
  assert.equal(ev('@(DateTime.UtcNow.ToString("R"))'), 'Fri, 02 Feb 2024 08:39:43 GMT');
  assert.equal(ev('@(DateTime.UtcNow.ToString("s"))'), '2024-02-02T08:39:43');
  assert.equal(ev('@(DateTime.UtcNow.ToString())'), '2/2/2024 8:39:43 AM');
  assert.equal(ev('@(DateTime.UtcNow.ToString("dddd, MMMM d, yyyy h:mm tt"))'), 'Friday, February 2, 2024 8:39 AM');
  assert.equal(ev('@(DateTime.UtcNow.AddDays(30).Month)'), 3);
  assert.equal(ev('@(new DateTime(2024, 1, 31).AddMonths(1).Day)'), 29);
  assert.equal(ev('@((new DateTime(2024, 3, 1) - new DateTime(2024, 2, 1)).TotalDays)'), 29);
  assert.equal(ev('@(DateTime.Parse("2024-02-02T10:00:00Z") > DateTime.Parse("2024-02-02T09:00:00Z"))'), true);
  assert.equal(ev('@(DateTime.UtcNow.DayOfWeek.ToString())'), 'Friday');
  assert.equal(ev('@(DateTime.UtcNow.Date.ToString("yyyy-MM-dd HH:mm"))'), '2024-02-02 00:00');
  assert.equal(ev('@(DateTimeOffset.UtcNow.ToUnixTimeSeconds())'), 1706863183);
  assert.equal(ev('@(DateTimeOffset.FromUnixTimeMilliseconds(0).ToString("yyyy-MM-ddTHH:mm:sszzz"))'), '1970-01-01T00:00:00+00:00');
  assert.equal(ev('@(DateTimeOffset.Parse("2024-02-02T10:00:00+02:00").ToUnixTimeSeconds())'), 1706860800);
  assert.equal(ev('@(DateTimeOffset.Parse("2024-02-02T10:00:00+02:00").ToString())'), '2/2/2024 10:00:00 AM +02:00');
  assert.equal(ev('@(TimeSpan.FromMinutes(90).ToString())'), '01:30:00');
  assert.equal(ev('@(TimeSpan.FromSeconds(3661.5).TotalHours > 1 && TimeSpan.Parse("1.02:03:04").Days == 1)'), true);
  assert.equal(ev('@(context.Elapsed.TotalMilliseconds)'), 12);
  assert.equal(ev('@(context.Timestamp.ToString("u"))'), '2024-02-02 08:39:43Z');
  fails('@(DateTime.Parse("not a date"))', 'System.FormatException');
  fails('@(new DateTime(2024, 2, 30))', 'System.ArgumentOutOfRangeException');
});

test('TimeZoneInfo (IANA and Windows ids), StringReader, StringWriter', () => {
  assert.equal(ev('@(TimeZoneInfo.ConvertTimeFromUtc(DateTime.UtcNow, TimeZoneInfo.FindSystemTimeZoneById("W. Europe Standard Time")).ToString("HH:mm"))'), '09:39');
  assert.equal(ev('@(TimeZoneInfo.ConvertTimeBySystemTimeZoneId(DateTime.UtcNow, "Europe/Amsterdam").Hour)', { now: new Date('2024-07-01T08:00:00Z') }), 10);
  assert.equal(ev('@(TimeZoneInfo.ConvertTime(DateTimeOffset.UtcNow, TimeZoneInfo.FindSystemTimeZoneById("Eastern Standard Time")).ToString("yyyy-MM-ddTHH:mm:sszzz"))'), '2024-02-02T03:39:43-05:00');
  assert.equal(ev('@(TimeZoneInfo.FindSystemTimeZoneById("Pacific Standard Time").BaseUtcOffset.TotalHours)'), -8);
  fails('@(TimeZoneInfo.FindSystemTimeZoneById("Nowhere/Special"))', 'System.TimeZoneNotFoundException');
  assert.equal(ev('@{ var r = new StringReader("a\\r\\nb"); return r.ReadLine() + "|" + r.ReadToEnd(); }'), 'a|b');
  assert.equal(ev('@{ var w = new StringWriter(); w.Write(1); w.Write("x"); return w.ToString(); }'), '1x');
});

test('Guid, Random, Regex', () => {
  assert.equal(ev('@(Guid.Parse("6A1F0C5E-4D7B-4F3A-9A51-1C2D3E4F5A6B").ToString())'), '6a1f0c5e-4d7b-4f3a-9a51-1c2d3e4f5a6b');
  assert.equal(ev('@(Guid.Parse("6a1f0c5e-4d7b-4f3a-9a51-1c2d3e4f5a6b").ToString("N"))'), '6a1f0c5e4d7b4f3a9a511c2d3e4f5a6b');
  assert.equal(ev('@(BitConverter.ToString(new Guid("6a1f0c5e-4d7b-4f3a-9a51-1c2d3e4f5a6b").ToByteArray(), 0, 4))'), '5E-0C-1F-6A');
  assert.equal(ev('@(context.RequestId.ToString())'), '6a1f0c5e-4d7b-4f3a-9a51-1c2d3e4f5a6b');
  assert.equal(ev('@(Guid.NewGuid() != Guid.NewGuid() && Guid.Empty.ToString() == "00000000-0000-0000-0000-000000000000")'), true);
  assert.equal(ev('@(new Random(42).Next(10) == new Random(42).Next(10))'), true);
  const r = ev('@(new Random().Next(5, 7))') as number;
  assert.ok(r === 5 || r === 6);
  assert.equal(ev('@(Regex.Match("max-age=600, public", @"max-age=(?<maxAge>\\d+)").Groups["maxAge"].Value)'), '600');
  assert.equal(ev('@(Regex.IsMatch("ABC", "^abc$", RegexOptions.IgnoreCase))'), true);
  assert.equal(ev('@(Regex.Replace("a1b22", @"\\d+", "#"))'), 'a#b#');
  assert.equal(ev('@(Regex.Replace("john smith", @"(?<first>\\w+) (?<last>\\w+)", "${last}, $1"))'), 'smith, john');
  assert.equal(ev('@(Regex.Matches("a1b2c3", @"\\d").Count)'), 3);
  assert.equal(ev('@(Regex.Split("a1b2c", @"\\d").Length)'), 3);
  assert.equal(ev('@(new Regex("^/api/(\\\\w+)").Match("/api/users").Groups[1].Value)'), 'users');
  assert.equal(ev('@(Regex.Match("x", "y").Success)'), false);
});

test('collections: List, Dictionary (KeyNotFound, comparer), HashSet, Queue, Stack, KeyValuePair', () => {
  assert.equal(ev('@{ var l = new List<int>(); l.Add(3); l.Add(1); l.Sort(); l.Insert(0, 9); return string.Join(",", l); }'), '9,1,3');
  assert.equal(ev('@{ var d = new Dictionary<string, string>(); d["a"] = "1"; d.Add("b", "2"); string v; return d.TryGetValue("b", out v) ? v + d.Count : "none"; }'), '22');
  fails('@{ var d = new Dictionary<string, string>(); return d["x"]; }', 'System.Collections.Generic.KeyNotFoundException');
  fails('@{ var d = new Dictionary<string, int>(); d.Add("a", 1); d.Add("a", 2); return d.Count; }', 'System.ArgumentException');
  assert.equal(ev('@{ var d = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase); d["A"] = 1; return d["a"]; }'), 1);
  assert.equal(ev('@{ var d = new Dictionary<string, int> { { "a", 1 } }; var t = ""; foreach (var kv in d) { t += kv.Key + "=" + kv.Value; } return t; }'), 'a=1');
  assert.equal(ev('@{ var h = new HashSet<string> { "a", "a", "b" }; return h.Count; }'), 2);
  assert.equal(ev('@{ var q = new Queue<int>(); q.Enqueue(1); q.Enqueue(2); return q.Dequeue(); }'), 1);
  assert.equal(ev('@{ var st = new Stack<int>(); st.Push(1); st.Push(2); return st.Pop(); }'), 2);
  assert.equal(ev('@(context.Request.Headers.Count)', { headers: { A: '1', B: ['2', '3'] } }), 2);
  assert.equal(ev('@(context.Request.Headers["B"].Length)', { headers: { B: ['2', '3'] } }), 2);
  assert.equal(ev('@(string.Join(";", context.Request.Headers.Select(h => h.Key + ":" + string.Join(",", h.Value))))', { headers: { A: '1', B: ['2', '3'] } }), 'A:1;B:2,3');
  assert.equal(ev('@(context.Request.Headers.GetValueOrDefault("b"))', { headers: { B: ['2', '3'] } }), '2,3');
});

test('Newtonsoft.Json: JObject, JArray, JProperty, casts, SelectToken, ToString formats, JsonConvert', () => {
  const body = '{"a":{"b":[1,2.5,"x",true,null]},"s":"v","n":12}';
  assert.equal(ev('@(context.Request.Body.As<JObject>().ToString())', { body }), '{\r\n  "a": {\r\n    "b": [\r\n      1,\r\n      2.5,\r\n      "x",\r\n      true,\r\n      null\r\n    ]\r\n  },\r\n  "s": "v",\r\n  "n": 12\r\n}');
  assert.equal(ev('@(context.Request.Body.As<JObject>().ToString(Newtonsoft.Json.Formatting.None))', { body }), body);
  assert.equal(ev('@((string)context.Request.Body.As<JObject>()["s"])', { body }), 'v');
  assert.equal(ev('@((int)context.Request.Body.As<JObject>()["n"] + 1)', { body }), 13);
  assert.equal(ev('@((string)context.Request.Body.As<JObject>()["missing"])', { body }), null);
  assert.equal(ev('@(context.Request.Body.As<JObject>().SelectToken("$.a.b[1]").ToString())', { body }), '2.5');
  assert.equal(ev('@(context.Request.Body.As<JObject>().SelectToken("a.b[2]").Value<string>())', { body }), 'x');
  assert.equal(ev('@(context.Request.Body.As<JObject>()["a"]["b"].Count())', { body }), 5);
  assert.equal(ev('@(((JArray)context.Request.Body.As<JObject>()["a"]["b"]).Count)', { body }), 5);
  assert.equal(ev('@(context.Request.Body.As<JObject>()["a"]["b"][3].Type.ToString())', { body }), 'Boolean');
  assert.equal(ev('@(context.Request.Body.As<JObject>().Properties().Select(p => p.Name).Aggregate((x, y) => x + y))', { body }), 'asn');
  assert.equal(ev('@{ var o = new JObject(); o["x"] = 1; o.Add("y", "z"); o.Add(new JProperty("arr", new JArray(1, "two"))); return o.ToString(Newtonsoft.Json.Formatting.None); }'), '{"x":1,"y":"z","arr":[1,"two"]}');
  assert.equal(ev('@{ var o = JObject.Parse("{\\"a\\":1,\\"b\\":2}"); o.Remove("a"); o.Property("b").Value = 3; return o.ToString(Newtonsoft.Json.Formatting.None); }'), '{"b":3}');
  assert.equal(ev('@(JsonConvert.SerializeObject(new Dictionary<string, object> { { "k", 1.5 }, { "t", true } }))'), '{"k":1.5,"t":true}');
  assert.equal(ev('@(JsonConvert.SerializeObject(new { d = 1.0, l = new List<int> { 1 } }, Newtonsoft.Json.Formatting.Indented))'), '{\r\n  "d": 1,\r\n  "l": [\r\n    1\r\n  ]\r\n}');
  assert.equal(ev('@(JArray.Parse("[1,2,3]").Select(t => (int)t).Sum())'), 6);
  assert.equal(ev('@(JToken.Parse("\\"s\\"").Type.ToString() + JToken.Parse("1.0").ToString(Newtonsoft.Json.Formatting.None))'), 'String1.0');
  assert.equal(ev("@(JObject.Parse(\"{'single': 'quotes', unquoted: 1 /* comment */}\")[\"unquoted\"].ToString())"), '1');
  // DateParseHandling.DateTime, as Newtonsoft's default
  assert.equal(ev('@(JObject.Parse("{\\"d\\":\\"2025-06-01T12:00:00Z\\"}")["d"].ToString())'), '6/1/2025 12:00:00 PM');
  assert.equal(ev('@((string)JObject.Parse("{\\"d\\":\\"2025-06-01T12:00:00Z\\"}")["d"])'), '06/01/2025 12:00:00');
  assert.equal(ev('@(JObject.Parse("{\\"d\\":\\"2025-06-01T12:00:00Z\\"}").ToString(Newtonsoft.Json.Formatting.None))'), '{"d":"2025-06-01T12:00:00Z"}');
  assert.equal(ev('@(((DateTime)JObject.Parse("{\\"d\\":\\"2025-06-01T12:00:00Z\\"}")["d"]).Hour)'), 12);
  fails('@(JObject.Parse("[1]"))', 'Newtonsoft.Json.JsonReaderException');
  fails('@((int)JObject.Parse("{\\"a\\":\\"x\\"}")["a"])', 'System.FormatException');
  fails('@((JObject)JArray.Parse("[]"))', 'System.InvalidCastException');
  fails('@(context.Request.Body.As<JObject>())', 'Newtonsoft.Json.JsonReaderException', { body: 'not json' });
});

test('System.Xml.Linq: parse, navigate, construct, namespaces, .NET ToString', () => {
  const soap = '<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><GetResult xmlns="urn:svc"><Id>42</Id><Name a="1">N &amp; M</Name></GetResult></soap:Body></soap:Envelope>';
  const host = { body: soap };
  assert.equal(ev('@(context.Request.Body.As<XDocument>().Descendants().First(e => e.Name.LocalName == "Name").Value)', host), 'N & M');
  assert.equal(ev('@{ XNamespace ns = "urn:svc"; return (int)context.Request.Body.As<XDocument>().Descendants(ns + "Id").Single() + 1; }', host), 43);
  assert.equal(ev('@(context.Request.Body.As<XDocument>(preserveContent: true).Root.Name.LocalName + "|" + context.Request.Body.As<XDocument>().Root.Name.NamespaceName)', host), 'Envelope|http://schemas.xmlsoap.org/soap/envelope/');
  // without preserveContent the body is consumed, as on Azure
  fails('@(context.Request.Body.As<XDocument>().Root.Name.LocalName + context.Request.Body.As<XDocument>().Root.Name.LocalName)', 'System.Xml.XmlException', host);
  assert.equal(ev('@(context.Request.Body.As<string>() + "|" + context.Request.Body.As<string>())', { body: 'abc' }), 'abc|');
  assert.equal(ev('@(context.Request.Body.As<string>(true) + "|" + context.Request.Body.As<string>())', { body: 'abc' }), 'abc|abc');
  assert.equal(ev('@((string)context.Request.Body.As<XElement>().Descendants("{urn:svc}Name").First().Attribute("a"))', host), '1');
  assert.equal(ev('@(context.Request.Body.As<XDocument>().Declaration.ToString())', host), '<?xml version="1.0" encoding="utf-8"?>');
  assert.equal(ev('@(new XElement("r", new XAttribute("id", 1), new XElement("c", "x<y"), new XElement("e")).ToString())'), '<r id="1">\r\n  <c>x&lt;y</c>\r\n  <e />\r\n</r>');
  assert.equal(ev('@(new XElement("r", new XElement("c", 1)).ToString(SaveOptions.DisableFormatting))'), '<r><c>1</c></r>');
  assert.equal(ev('@{ var e = XElement.Parse("<a><b>1</b></a>"); e.SetElementValue("b", 2); e.SetAttributeValue("k", "v"); e.Add(new XElement("c")); return e.ToString(SaveOptions.DisableFormatting); }'), '<a k="v"><b>2</b><c /></a>');
  assert.equal(ev('@(XDocument.Parse("<a>  <b/>  </a>").Root.Nodes().Count())'), 1);
  fails('@(XDocument.Parse("<a><b></a>"))', 'System.Xml.XmlException');
  fails('@(XDocument.Parse(""))', 'System.Xml.XmlException');
});

test('hashes and HMACs agree with node:crypto; AES Encrypt/Decrypt round-trip', () => {
  assert.equal(ev('@(Convert.ToBase64String(new HMACSHA256(Encoding.UTF8.GetBytes("k")).ComputeHash(Encoding.UTF8.GetBytes("m"))))'), createHmac('sha256', 'k').update('m').digest('base64'));
  assert.equal(ev('@(Convert.ToBase64String(new HMACSHA1(Encoding.UTF8.GetBytes("k")).ComputeHash(Encoding.UTF8.GetBytes("m"))))'), createHmac('sha1', 'k').update('m').digest('base64'));
  assert.equal(ev('@(BitConverter.ToString(SHA256.Create().ComputeHash(Encoding.UTF8.GetBytes("m"))).Replace("-", "").ToLower())'), createHash('sha256').update('m').digest('hex'));
  assert.equal(ev('@(BitConverter.ToString(MD5.Create().ComputeHash(Encoding.UTF8.GetBytes("m"))).Replace("-", ""))'), createHash('md5').update('m').digest('hex').toUpperCase());
  assert.equal(ev('@{ var h = new HMACSHA512 { Key = Encoding.UTF8.GetBytes("k") }; return Convert.ToBase64String(h.ComputeHash(Encoding.UTF8.GetBytes("m"))); }'), createHmac('sha512', 'k').update('m').digest('base64'));
  assert.equal(ev('@{ var key = new byte[32]; var iv = new byte[16]; var c = Encoding.UTF8.GetBytes("secret").Encrypt("Aes", key, iv); return Encoding.UTF8.GetString(c.Decrypt("Aes", key, iv)); }'), 'secret');
  fails('@(new byte[3].Encrypt("Aes", new byte[5], new byte[16]))', 'System.Security.Cryptography.CryptographicException');
  assert.equal(ev('@{ var aes = SymmetricAlgorithm.Create("Aes"); var c = Encoding.UTF8.GetBytes("hello").Encrypt(aes); return Encoding.UTF8.GetString(c.Decrypt(aes)); }'), 'hello');
  assert.equal(ev('@{ var aes = SymmetricAlgorithm.Create("Aes"); aes.Mode = CipherMode.ECB; aes.Padding = PaddingMode.Zeros; var c = Encoding.UTF8.GetBytes("hello").Encrypt(aes); return c.Length + ":" + Encoding.UTF8.GetString(c.Decrypt(aes)).TrimEnd((char)0); }'), '16:hello');
  fails('@(SymmetricAlgorithm.Create())', 'System.NotSupportedException');
});

test('APIM extensions: AsJwt, TryParseJwt, AsBasic, TryParseBasic', () => {
  const payload = { iss: 'https://issuer', sub: 'u1', aud: ['a1', 'a2'], exp: 1706863183 + 3600, roles: ['r1', 'r2'], name: 'N' };
  const jwt = `${Buffer.from('{"alg":"RS256","typ":"JWT"}').toString('base64url')}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.sig`;
  const host = { headers: { Authorization: `Bearer ${jwt}` } };
  assert.equal(ev('@(context.Request.Headers.GetValueOrDefault("Authorization").AsJwt().Subject)', host), 'u1');
  assert.equal(ev('@(context.Request.Headers.GetValueOrDefault("Authorization", "").Split(\' \')[1].AsJwt()?.Claims["roles"].FirstOrDefault())', host), 'r1');
  assert.equal(ev('@(context.Request.Headers.GetValueOrDefault("Authorization").AsJwt().Claims.GetValueOrDefault("roles", "none"))', host), 'r1,r2');
  assert.equal(ev('@(context.Request.Headers.GetValueOrDefault("Authorization").AsJwt().Audiences.Count())', host), 2);
  assert.equal(ev('@(context.Request.Headers.GetValueOrDefault("Authorization").AsJwt().ExpirationTime.Value > DateTime.UtcNow)', host), true);
  assert.equal(ev('@(context.Request.Headers.GetValueOrDefault("Authorization").AsJwt().Algorithm)', host), 'RS256');
  assert.equal(ev('@("garbage".AsJwt() == null)'), true);
  assert.equal(ev('@(context.Request.Headers.GetValueOrDefault("Authorization").AsJwt() == null)'), true);
  assert.equal(ev('@{ Jwt j; return "x.y".TryParseJwt(out j) || j != null; }'), false);
  const basic = { headers: { Authorization: `Basic ${Buffer.from('user:pa:ss').toString('base64')}` } };
  assert.equal(ev('@(context.Request.Headers.GetValueOrDefault("Authorization").AsBasic().UserId + "|" + context.Request.Headers.GetValueOrDefault("Authorization").AsBasic().Password)', basic), 'user|pa:ss');
  assert.equal(ev('@{ BasicAuthCredentials c; return context.Request.Headers.GetValueOrDefault("Authorization").TryParseBasic(out c) ? c.UserId : "no"; }', basic), 'user');
  assert.equal(ev('@("Bearer x".AsBasic() == null)'), true);
});

test('the context object: Request, Url, Query, Body, Response, Api, Operation, Subscription, User, LastError, Tracing, Trace', () => {
  const url = 'https://apim.contoso.com:8443/echo/users/42?b=2&a=1&a=3';
  assert.equal(ev('@(context.Request.Url.ToString())', { url }), url);
  assert.equal(ev('@(context.Request.Url.Port + 1)', { url }), 8444);
  assert.equal(ev('@(context.Request.Url.Query.GetValueOrDefault("a"))', { url }), '1,3');
  assert.equal(ev('@(context.Request.Url.Query["b"][0])', { url }), '2');
  assert.equal(ev('@(context.Request.Url.QueryString)', { url }), '?b=2&a=1&a=3');
  assert.equal(ev('@(context.Request.OriginalUrl.Host + context.Request.Url.Path)', { url }), 'apim.contoso.com/echo/users/42');
  assert.equal(ev('@(context.Request.MatchedParameters["id"])', { matchedParameters: { id: '42' } }), '42');
  assert.equal(ev('@(context.Request.Method + context.Request.IpAddress)', { method: 'POST', ipAddress: '10.0.0.5' }), 'POST10.0.0.5');
  assert.equal(ev('@(context.Request.Body == null)'), true);
  assert.equal(ev('@(context.Request.Body.AsFormUrlEncodedContent()["x"][1])', { body: 'x=1&x=a+b&y=%20' }), 'a b');
  assert.equal(ev('@(context.Request.Body.AsFormUrlEncodedContent().ToQueryString())', { body: 'x=1&y=a+b' }), 'x=1&y=a%20b');
  assert.equal(ev('@(context.Request.Body.As<byte[]>().Length)', { body: 'abc' }), 3);
  assert.equal(ev('@(context.Response.StatusCode + context.Response.StatusReason)', { response: { statusCode: 404, statusReason: 'Not Found' } }), '404Not Found');
  assert.equal(ev('@(context.Response.Headers.GetValueOrDefault("x", "d"))'), 'd');
  assert.equal(ev('@(context.Api == null && context.Operation == null && context.User == null && context.Subscription == null && context.Product == null && context.LastError == null)'), true);
  const sub = { id: 's', name: 'sub', key: 'k1', primaryKey: 'k1', secondaryKey: 'k2', createdDate: new Date('2024-01-01T00:00:00Z') };
  assert.equal(ev('@(context.Subscription.Key + context.Subscription.CreatedDate.Year + (context.Subscription.EndDate == null))', { subscription: sub }), 'k12024True');
  const op = { id: 'op', name: 'Get user', method: 'GET', urlTemplate: '/users/{id}' };
  assert.equal(ev('@(context.Operation.UrlTemplate)', { operation: op }), '/users/{id}');
  const user = { id: 'u', email: 'e@x', firstName: 'F', lastName: 'L', groups: [{ id: 'g1', name: 'Admins' }] };
  assert.equal(ev('@(context.User.Groups.Any(g => g.Name == "Admins"))', { user }), true);
  assert.equal(ev('@(context.Deployment.ServiceName + "/" + context.Deployment.Region + "/" + context.Deployment.Gateway.IsManaged)'), 'apim-sample/West Europe/True');
  assert.equal(ev('@(context.Tracing)'), false);
  const r = compileExpression('@{ context.Trace("hello"); return 1; }', { file: new SourceFile('t', ''), offset: 0 });
  const host = makeTestHost({});
  r.expression!.evaluate(host);
  assert.deepEqual(host.traces, ['expression: hello']);
  // the context is read-only: set-variable changes variables, expressions do not
  assert.throws(() => ev('@{ context.Request.Method = "PUT"; return 1; }'), (e: unknown) => e instanceof ExpressionError);
});

test('toPolicyString is .NET ToString', () => {
  assert.equal(s('@(true)'), 'True');
  assert.equal(s('@(1.5)'), '1.5');
  assert.equal(s('@((string)null)'), '');
  assert.equal(s('@(new[] { 1 })'), 'System.Int32[]');
  assert.equal(s('@(new byte[1])'), 'System.Byte[]');
  assert.equal(s('@(new List<string>())'), 'System.Collections.Generic.List`1[System.String]');
  assert.equal(s('@(Guid.Empty)'), '00000000-0000-0000-0000-000000000000');
  assert.equal(s('@(TimeSpan.FromSeconds(1))'), '00:00:01');
  assert.equal(s('@(StringComparison.Ordinal)'), 'Ordinal');
});
