/** The C# subset: syntax (issue 5 item 1) and the .NET behaviours users depend on (item 3). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SourceFile } from '../core/source.js';
import { compileExpression, ExpressionError, toPolicyString } from './index.js';
import { makeTestHost, type TestHostOptions } from './testing.js';

function ev(src: string, host: TestHostOptions = {}): unknown {
  const r = compileExpression(src, { file: new SourceFile('t.xml', src), offset: 0 });
  assert.deepEqual(r.diagnostics.map((d) => `${d.code} ${d.message}`), [], src);
  return r.expression!.evaluate(makeTestHost(host));
}
const str = (src: string, host: TestHostOptions = {}) => toPolicyString(ev(src, host));

function fails(src: string, type: string, message?: RegExp | string, host: TestHostOptions = {}): void {
  assert.throws(
    () => ev(src, host),
    (e: unknown) => {
      assert.ok(e instanceof ExpressionError, String(e));
      assert.equal(e.exceptionType, type, `${src}: ${e.message}`);
      if (typeof message === 'string') assert.equal(e.dotNetMessage, message);
      else if (message) assert.match(e.dotNetMessage, message);
      return true;
    },
    src,
  );
}

function diag(src: string, code: string, message?: RegExp): { line: number; column: number } {
  const file = new SourceFile('t.xml', src);
  const r = compileExpression(src, { file, offset: 0 });
  assert.equal(r.expression, undefined, src);
  assert.equal(r.diagnostics[0]!.code, code, `${src}: ${r.diagnostics[0]!.message}`);
  if (message) assert.match(r.diagnostics[0]!.message, message);
  return { line: r.diagnostics[0]!.line!, column: r.diagnostics[0]!.column! };
}

test('literals: verbatim, interpolated with formats and alignment, chars, numeric suffixes', () => {
  assert.equal(ev('@(@"C:\\x ""q""")'), 'C:\\x "q"');
  assert.equal(ev('@($"a{1 + 2}b{{c}}")'), 'a3b{c}');
  assert.equal(ev('@($"{3.14159:F2}|{42,5}|{42,-5}|{255:X4}")'), '3.14|   42|42   |00FF');
  assert.equal(ev('@($@"x\\{"y"}")'), 'x\\y');
  assert.equal(ev("@('a')"), 'a');
  assert.equal(ev("@('\\n' == '\\u000A')"), true);
  assert.equal(ev('@(10L * 3)'), 30);
  assert.equal(ev('@(1.5m + 1)'), 2.5);
  assert.equal(ev('@(0x1F + 0b11)'), 34);
  assert.equal(ev('@(1_000_000)'), 1000000);
  assert.equal(ev('@(2.5f.ToString())'), '2.5');
});

test('operators: C# precedence, integer division, char arithmetic, shifts, ?:, ??, ?., ?[]', () => {
  assert.equal(ev('@(1 + 2 * 3 - 4 / 2)'), 5);
  assert.equal(ev('@(7 / 2)'), 3);
  assert.equal(ev('@(-7 / 2)'), -3);
  assert.equal(ev('@(7 % 3 + 7.0 / 2)'), 4.5);
  assert.equal(ev('@((double)7 / 2)'), 3.5);
  assert.equal(ev('@(int.MaxValue + 1)'), -2147483648);
  assert.equal(ev("@('a' + 1)"), 98);
  assert.equal(ev("@((char)('a' + 1))"), 'b');
  assert.equal(ev("@(\"x\" + 'a')"), 'xa');
  assert.equal(ev('@(1 << 4 | 1)'), 17);
  assert.equal(ev('@(-16 >> 2)'), -4);
  assert.equal(ev('@(true ? "a" : "b")'), 'a');
  assert.equal(ev('@((string)null ?? "d")'), 'd');
  assert.equal(ev('@(context.Request.Headers.GetValueOrDefault("nope")?.Length)'), null);
  assert.equal(ev('@(context.Request.Headers.GetValueOrDefault("nope")?.Split(\',\')?[0] ?? "none")'), 'none');
  assert.equal(ev('@(!(1 < 2) || 3 >= 3 && 2 != 2)'), false);
  // ?. short-circuits the rest of the chain, as C# does
  assert.equal(ev("@(((string)null)?.Split(' ')[1].Length)"), null);
  assert.equal(ev("@(\"a bc\"?.Split(' ')[1].Length)"), 2);
  assert.equal(ev("@(((string)null)?.Split(' ')[1].Length.ToString().Length + 1)"), null); // lifted int? + int
  assert.equal(ev('@("a" + 1 + 2)'), 'a12');
  assert.equal(ev('@(1 + 2 + "a")'), '3a');
  assert.equal(ev('@("v" + true + null + 1.5)'), 'vTrue1.5');
});

test('ordinal string comparison by default; StringComparison when asked', () => {
  assert.equal(ev('@("abc" == "ABC")'), false);
  assert.equal(ev('@("abc".Equals("ABC"))'), false);
  assert.equal(ev('@("abc".Equals("ABC", StringComparison.OrdinalIgnoreCase))'), true);
  assert.equal(ev('@(string.Equals("abc", "ABC", StringComparison.OrdinalIgnoreCase))'), true);
  assert.equal(ev('@("abc".StartsWith("AB", StringComparison.OrdinalIgnoreCase))'), true);
  assert.equal(ev('@(string.CompareOrdinal("a", "B") > 0)'), true);
  assert.equal(ev('@("Hello".IndexOf("L", StringComparison.OrdinalIgnoreCase))'), 2);
});

test('casts, is, as, typeof', () => {
  assert.equal(ev('@((int)3.9)'), 3);
  assert.equal(ev('@((int)-3.9)'), -3);
  assert.equal(ev('@((byte)300)'), 44);
  assert.equal(ev('@((long)int.MaxValue + 1)'), 2147483648);
  assert.equal(ev('@((object)"s" is string)'), true);
  assert.equal(ev('@((object)1 is string)'), false);
  assert.equal(ev('@(((object)1 as string) == null)'), true);
  assert.equal(ev('@(typeof(string).Name)'), 'String');
  assert.equal(ev('@{ object o = "x"; if (o is string s) { return s.Length; } return -1; }'), 1);
  fails('@((string)(object)1)', 'System.InvalidCastException', "Unable to cast object of type 'System.Int32' to type 'System.String'.");
  fails('@((int)context.Variables["s"])', 'System.InvalidCastException', undefined, { variables: { s: 'xy' } });
});

test('generic calls: GetValueOrDefault<T>, As<T>, Value<T>, JsonConvert.DeserializeObject<T>', () => {
  assert.equal(ev('@(context.Variables.GetValueOrDefault<string>("a", "d"))'), 'd');
  assert.equal(ev('@(context.Variables.GetValueOrDefault<int>("n"))'), 0);
  assert.equal(ev('@(context.Variables.GetValueOrDefault<int>("n", 5) + 1)', { variables: { n: 41 } }), 42);
  assert.equal((ev('@(context.Variables.GetValueOrDefault<byte[]>("b"))', { variables: { b: Buffer.from([1, 2]) } }) as Buffer).length, 2);
  fails('@(context.Variables.GetValueOrDefault<int>("n"))', 'System.InvalidCastException', undefined, { variables: { n: '41' } });
  assert.equal(ev('@(context.Request.Body.As<JObject>()["a"].Value<int>())', { body: '{"a":7}' }), 7);
  assert.equal(ev('@(((JObject)context.Request.Body.As<JObject>()).Value<string>("a"))', { body: '{"a":"x"}' }), 'x');
  assert.equal(ev('@(context.Request.Body.As<string>(preserveContent: true))', { body: 'raw' }), 'raw');
  assert.equal(ev('@(JsonConvert.DeserializeObject<JObject>("{\\"a\\":1}")["a"].ToString())'), '1');
});

test('lambdas, LINQ, anonymous objects, initializers, arrays', () => {
  assert.equal(ev('@(new[] { 3, 1, 2 }.OrderBy(x => x).First())'), 1);
  assert.equal(ev('@(new[] { 3, 1, 2 }.Where(x => x > 1).Sum())'), 5);
  assert.equal(ev('@(string.Join(",", new[] { "b", "a", "c" }.OrderByDescending(s => s)))'), 'c,b,a');
  assert.equal(ev('@(new List<string> { "a", "b" }.Count)'), 2);
  assert.equal(ev('@(new Dictionary<string, int> { { "a", 1 }, { "b", 2 } }["b"])'), 2);
  assert.equal(ev('@(new Dictionary<string, int> { ["a"] = 1 }.ContainsKey("a"))'), true);
  assert.equal(str('@(new { a = 1, b = "x" })'), '{ a = 1, b = x }');
  assert.equal(ev('@(JsonConvert.SerializeObject(new { a = 1, b = new[] { "x" }, c = (string)null }))'), '{"a":1,"b":["x"],"c":null}');
  assert.equal(ev('@(new int[3].Length)'), 3);
  assert.equal(ev('@(new string[] { "a", "b" }[1])'), 'b');
  assert.equal(ev('@{ int Add(int a, int b) { return a + b; } return new[] { 1, 2 }.Select(x => Add(x, 1)).Sum(); }'), 5);
  diag('@{ Func<int, int> f = x => x; return f(1); }', 'GH_EXPR_TYPE_NOT_ALLOWED', /'Func'/);
  assert.equal(ev('@(Enumerable.Range(1, 4).Select((x, i) => x * i).Aggregate((a, b) => a + b))'), 20);
  assert.equal(ev('@(new[] { "a", "bb", "cc" }.GroupBy(s => s.Length).Count())'), 2);
  assert.equal(ev('@(new[] { 1, 2, 2, 3 }.Distinct().Count())'), 3);
  assert.equal(ev('@(new[] { 1, 2 }.Concat(new[] { 3 }).ToArray().Length)'), 3);
  assert.equal(ev('@(new[] { 1, 2 }.Any(x => x == 2) && new[] { 1, 2 }.All(x => x > 0))'), true);
  assert.equal(ev('@(new[] { 5 }.Single())'), 5);
  fails('@(new int[0].First())', 'System.InvalidOperationException', 'Sequence contains no elements');
  fails('@(new[] { 1, 2 }.Single())', 'System.InvalidOperationException', 'Sequence contains more than one element');
  assert.equal(ev('@(new[] { 1, 2, 3 }.ToDictionary(x => "k" + x, x => x * 2)["k3"])'), 6);
  assert.equal(ev('@(new[] { "x", "y" }.Contains("y"))'), true);
});

test('statements: declarations, if/else, for, foreach, while, do, switch, try/catch/finally, throw, local functions', () => {
  assert.equal(ev('@{ int a = 1, b = 2; string s; s = "x"; return s + (a + b); }'), 'x3');
  assert.equal(ev('@{ var t = 0; for (var i = 0; i < 5; i++) { if (i == 3) continue; t += i; } return t; }'), 7);
  assert.equal(ev('@{ var t = ""; foreach (var c in "abc") { t = c + t; } return t; }'), 'cba');
  assert.equal(ev('@{ var n = 0; while (true) { if (++n > 4) break; } return n; }'), 5);
  assert.equal(ev('@{ var n = 0; do { n++; } while (n < 3); return n; }'), 3);
  assert.equal(ev('@{ switch ("b") { case "a": return 1; case "b": case "c": return 2; default: return 3; } }'), 2);
  assert.equal(ev('@{ var x = 5; var r = x switch { 1 => "one", 5 => "five", _ => "many" }; return r; }'), 'five');
  assert.equal(ev('@{ try { throw new InvalidOperationException("boom"); } catch (InvalidOperationException ex) { return ex.Message; } }'), 'boom');
  assert.equal(ev('@{ var log = ""; try { log += "t"; } finally { log += "f"; } return log; }'), 'tf');
  assert.equal(ev('@{ try { return int.Parse("x"); } catch (FormatException) { return -1; } }'), -1);
  assert.equal(ev('@{ try { object o = null; return o.ToString(); } catch (Exception e) { return e.GetType().Name + ":" + e.Message; } }'), 'NullReferenceException:Object reference not set to an instance of an object.');
  assert.equal(ev('@{ int Fib(int n) { return n < 2 ? n : Fib(n - 1) + Fib(n - 2); } return Fib(15); }'), 610);
  assert.equal(ev('@{ string[] value; if (context.Request.Headers.TryGetValue("Authorization", out value)) { return value[0]; } return "none"; }', { headers: { Authorization: 'Basic x' } }), 'Basic x');
  assert.equal(ev('@{ if (int.TryParse("12", out var n)) { return n * 2; } return 0; }'), 24);
  assert.equal(ev('@{ const int k = 3; return k * k; }'), 9);
  fails('@{ throw new ArgumentException("bad"); }', 'System.ArgumentException', 'bad');
});

test('.NET errors: null dereference, missing key, index range, format, division by zero', () => {
  fails('@(context.Request.Headers.GetValueOrDefault("nope").Length)', 'System.NullReferenceException', 'Object reference not set to an instance of an object.');
  fails('@(context.Request.Headers["nope"])', 'System.Collections.Generic.KeyNotFoundException', "The given key 'nope' was not present in the dictionary.");
  fails('@(context.Variables["v"])', 'System.Collections.Generic.KeyNotFoundException');
  fails('@("abc"[5])', 'System.IndexOutOfRangeException', 'Index was outside the bounds of the array.');
  fails('@("abc".Substring(4))', 'System.ArgumentOutOfRangeException');
  fails('@(int.Parse("12a"))', 'System.FormatException', "The input string '12a' was not in a correct format.");
  fails('@(int.Parse("99999999999"))', 'System.OverflowException');
  fails('@{ var z = 0; return 1 / z; }', 'System.DivideByZeroException', 'Attempted to divide by zero.');
  assert.equal(ev('@{ var z = 0.0; return 1 / z; }'), Infinity);
  fails('@(Guid.Parse("nope"))', 'System.FormatException');
  fails('@(JObject.Parse("{"))', 'Newtonsoft.Json.JsonReaderException');
});

test('errors carry line:column inside the policy file', () => {
  const text = '<policies>\n  <inbound>\n    <set-header name="x">\n      <value>@{\n        var h = context.Request.Headers.GetValueOrDefault("h");\n        return h.ToUpper();\n      }</value>\n';
  const at = text.indexOf('@{');
  const end = text.indexOf('}</value>') + 1;
  const file = new SourceFile('api.xml', text);
  const r = compileExpression(text.slice(at, end), { file, offset: at });
  assert.deepEqual(r.diagnostics, []);
  assert.throws(
    () => r.expression!.evaluate(makeTestHost({})),
    (e: unknown) => e instanceof ExpressionError && e.file === 'api.xml' && e.line === 6 && e.column === 18 && e.exceptionType === 'System.NullReferenceException',
  );
});

test('load-time diagnostics: syntax errors, disallowed types, unknown names, all with positions', () => {
  assert.deepEqual(diag('@(1 +)', 'GH_EXPR_SYNTAX', /expression expected/), { line: 1, column: 6 });
  assert.deepEqual(diag('@(System.IO.File.ReadAllText("x"))', 'GH_EXPR_TYPE_NOT_ALLOWED', /System\.IO\.File/), { line: 1, column: 3 });
  diag('@(new System.Net.Http.HttpClient())', 'GH_EXPR_TYPE_NOT_ALLOWED', /HttpClient/);
  diag('@(Environment.GetEnvironmentVariable("x"))', 'GH_EXPR_TYPE_NOT_ALLOWED', /Environment/);
  diag('@((Process)null)', 'GH_EXPR_TYPE_NOT_ALLOWED', /Process/);
  diag('@{ return y; }', 'GH_EXPR_TYPE_NOT_ALLOWED', /'y'/);
  diag('@{ var x = 1; }', 'GH_EXPR_SYNTAX', /not all code paths return/);
  diag('@(context.Request.Bogus)', 'GH_EXPR_UNKNOWN_NAME', /IRequest.*Bogus/);
  diag('@(context.Request.MatchedParameters("x"))', 'GH_EXPR_SYNTAX', /non-invocable member/);
  diag('@(Convert.ToNothing(1))', 'GH_EXPR_UNSUPPORTED', /ToNothing/);
  diag('@(new XProcessingInstruction("a", "b"))', 'GH_EXPR_UNSUPPORTED', /XProcessingInstruction.*does not implement/);
  diag('@("unterminated)', 'GH_EXPR_SYNTAX');
  diag('@{ var a = 1; var a = 2; return a; }', 'GH_EXPR_SYNTAX', /already defined/);
  // members API Management does not allow on restricted types (spec 3.2)
  diag('@(DateTime.UtcNow.ToUniversalTime())', 'GH_EXPR_TYPE_NOT_ALLOWED', /member 'ToUniversalTime' of type 'System.DateTime'/);
  diag('@{ DateTime d; return DateTime.TryParse("x", out d); }', 'GH_EXPR_TYPE_NOT_ALLOWED', /TryParse/);
  diag('@(Regex.Escape("a"))', 'GH_EXPR_TYPE_NOT_ALLOWED', /Escape/);
  diag('@(IPAddress.Parse("1.2.3.4").MapToIPv6())', 'GH_EXPR_TYPE_NOT_ALLOWED', /MapToIPv6/);
  diag('@(DateTimeKind.Local)', 'GH_EXPR_TYPE_NOT_ALLOWED', /Local/);
  assert.equal(ev('@(IPAddress.Parse("10.1.2.3").GetAddressBytes()[1] + (IPAddress.IsLoopback(IPAddress.Parse("::1")) ? 1 : 0))'), 2);
  assert.equal(ev('@(IPAddress.Parse("2001:0db8:0:0:0:0:0:1").ToString())'), '2001:db8::1');
  // nothing of JavaScript is reachable
  fails('@("".constructor)', 'Microsoft.CSharp.RuntimeBinder.RuntimeBinderException', "'System.String' does not contain a definition for 'constructor'");
  fails('@("".constructor.constructor("return process")())', 'Microsoft.CSharp.RuntimeBinder.RuntimeBinderException');
  fails('@(context.Request.Headers.constructor)', 'Microsoft.CSharp.RuntimeBinder.RuntimeBinderException');
  fails('@(context.Request.Headers.__proto__)', 'Microsoft.CSharp.RuntimeBinder.RuntimeBinderException');
  fails('@(new[] { 1 }.constructor)', 'Microsoft.CSharp.RuntimeBinder.RuntimeBinderException');
});

test('the examples of the API Management documentation (spec 3.1, 3.4)', () => {
  assert.equal(ev('@(true)'), true);
  assert.equal(ev('@((1+1).ToString())'), '2');
  assert.equal(ev('@("Hi There".Length)'), 8);
  const cache = { response: { headers: { 'Cache-Control': 'public, max-age=3600' } } };
  assert.equal(ev('@(Regex.Match(context.Response.Headers.GetValueOrDefault("Cache-Control",""), @"max-age=(?<maxAge>\\d+)").Groups["maxAge"]?.Value)', cache), '3600');
  assert.equal(ev('@(context.Variables.ContainsKey("maxAge") ? int.Parse((string)context.Variables["maxAge"]) : 3600)', { variables: { maxAge: '60' } }), 60);
  assert.equal(ev('@(context.Variables.ContainsKey("maxAge") ? int.Parse((string)context.Variables["maxAge"]) : 3600)'), 3600);
  const block = `@{
    string[] value;
    if (context.Request.Headers.TryGetValue("Authorization", out value))
    {
        if(value != null && value.Length > 0)
        {
            return Encoding.UTF8.GetString(Convert.FromBase64String(value[0]));
        }
    }
    return null;
  }`;
  assert.equal(ev(block, { headers: { Authorization: Buffer.from('user:pw').toString('base64') } }), 'user:pw');
  assert.equal(ev(block), null);
  const jwt = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from('{"claim-name":["v1","v2"]}').toString('base64url')}.`;
  assert.equal(ev('@(context.Request.Headers.GetValueOrDefault("Authorization")?.Split(\' \')?[1].AsJwt()?.Claims["claim-name"].FirstOrDefault())', { headers: { Authorization: `Bearer ${jwt}` } }), 'v1');
  assert.equal(ev('@(context.Request.Headers.GetValueOrDefault("Authorization")?.Split(\' \')?[1].AsJwt()?.Claims["claim-name"].FirstOrDefault())'), null);
});
