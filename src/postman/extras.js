// The less common parts of the Postman sandbox API, compiled the first time a script uses one
// (prelude.js has their stubs): Chai's nested.property, members, keys, closeTo, satisfy,
// string, instanceOf and throw; a JSON Schema subset for to.have.jsonSchema and tv4; atob/btoa.
// Everything is kept in the prelude's `__lib` or on Assertion.prototype: no new globals.
(function () {
__lib.nestedProperty = function (name, value) {
  var r = __path(this._obj, name);
  if (arguments.length > 1) {
    this._assert(r.has && (this._deep ? __deepEqual(r.value, value) : r.value === value), "expected #{act} to have nested property '" + name + "' of #{exp}", "expected #{act} to not have nested property '" + name + "' of #{exp}", value);
  } else {
    this._assert(r.has, "expected #{act} to have nested property '" + name + "'", "expected #{act} to not have nested property '" + name + "'", name);
  }
  return r.has ? new Assertion(r.value, this._message) : this;
};
__method(["nestedProperty"], function () { this._nested = true; return __lib.nestedProperty.apply(this, arguments); });
__method(["members"], function (want) {
  var o = this._obj || [], eq = function (a, b) { return a === b || __deepEqual(a, b); };
  var contains = function (list, v) { for (var i = 0; i < list.length; i++) if (eq(list[i], v)) return true; return false; };
  var ok = true;
  for (var i = 0; i < want.length; i++) if (!contains(o, want[i])) ok = false;
  if (!this._contains) ok = ok && o.length === want.length;
  return this._assert(ok, "expected #{act} to have the same members as #{exp}", "expected #{act} to not have the same members as #{exp}", want);
});
__method(["keys", "key"], function () {
  var want = Array.isArray(arguments[0]) ? arguments[0] : (arguments[0] !== null && typeof arguments[0] === "object" ? Object.keys(arguments[0]) : Array.prototype.slice.call(arguments));
  var o = this._obj || {}, have = Object.keys(o), ok;
  if (this._any) { ok = false; for (var i = 0; i < want.length; i++) if (have.indexOf(String(want[i])) >= 0) ok = true; }
  else {
    ok = true;
    for (var j = 0; j < want.length; j++) if (have.indexOf(String(want[j])) < 0) ok = false;
    if (!this._contains) ok = ok && have.length === want.length;
  }
  return this._assert(ok, "expected #{act} to have keys #{exp}", "expected #{act} to not have keys #{exp}", want);
});
__method(["closeTo", "approximately"], function (n, delta) {
  return this._assert(Math.abs(this._obj - n) <= delta, "expected #{act} to be close to " + n + " +/- " + delta, "expected #{act} not to be close to " + n + " +/- " + delta, n);
});
__method(["satisfy", "satisfies"], function (f) {
  return this._assert(!!f(this._obj), "expected #{act} to satisfy " + __str(String(f)), "expected #{act} to not satisfy " + __str(String(f)), "satisfied");
});
__method(["string"], function (sub) {
  return this._assert(typeof this._obj === "string" && this._obj.indexOf(sub) >= 0, "expected #{act} to contain #{exp}", "expected #{act} to not contain #{exp}", sub);
});
__method(["instanceOf", "instanceof"], function (C) {
  return this._assert(this._obj instanceof C, "expected #{act} to be an instance of " + (C && C.name), "expected #{act} to not be an instance of " + (C && C.name), C && C.name);
});
__method(["throw", "throws", "Throw"], function (what, msg) {
  var thrown = null, did = false;
  try { this._obj(); } catch (e) { did = true; thrown = e; }
  var ok = did;
  if (did && typeof what === "function") ok = thrown instanceof what;
  else if (did && typeof what === "string") ok = String(thrown && thrown.message).indexOf(what) >= 0;
  else if (did && what instanceof RegExp) ok = what.test(String(thrown && thrown.message));
  if (ok && typeof msg === "string") ok = String(thrown && thrown.message).indexOf(msg) >= 0;
  return this._assert(ok, "expected [Function] to throw " + (what ? __str(what.name || what) : "an error"), "expected [Function] to not throw an error but " + __str(thrown && String(thrown)) + " was thrown", what ? String(what.name || what) : "an error");
});
__lib.schemaErrors = schemaErrors;
// A JSON Schema subset (draft 4 to 7 keywords collections use), for `to.have.jsonSchema` and tv4.
function schemaErrors(v, s, path, out) {
  if (s === true || s === undefined || s === null) return out;
  if (s === false) { out.push(path + ": no value is allowed"); return out; }
  var t = __type(v), types = s.type === undefined ? null : [].concat(s.type);
  if (types) {
    var ok = types.some(function (x) { return x === t || (x === "integer" && t === "number" && Math.floor(v) === v) || (x === "number" && t === "number"); });
    if (!ok) { out.push(path + ": expected " + types.join(" or ") + ", got " + t); return out; }
  }
  if (s.enum && !s.enum.some(function (e) { return __deepEqual(e, v); })) out.push(path + ": not one of " + __str(s.enum));
  if (s.const !== undefined && !__deepEqual(s.const, v)) out.push(path + ": not " + __str(s.const));
  if (t === "string") {
    if (s.minLength !== undefined && v.length < s.minLength) out.push(path + ": shorter than " + s.minLength);
    if (s.maxLength !== undefined && v.length > s.maxLength) out.push(path + ": longer than " + s.maxLength);
    if (s.pattern !== undefined && !new RegExp(s.pattern).test(v)) out.push(path + ": does not match " + s.pattern);
  }
  if (t === "number") {
    if (s.minimum !== undefined && v < s.minimum) out.push(path + ": below " + s.minimum);
    if (s.maximum !== undefined && v > s.maximum) out.push(path + ": above " + s.maximum);
  }
  if (t === "array") {
    if (s.minItems !== undefined && v.length < s.minItems) out.push(path + ": fewer than " + s.minItems + " items");
    if (s.maxItems !== undefined && v.length > s.maxItems) out.push(path + ": more than " + s.maxItems + " items");
    if (s.items && !Array.isArray(s.items)) v.forEach(function (x, i) { schemaErrors(x, s.items, path + "[" + i + "]", out); });
  }
  if (t === "object") {
    (s.required || []).forEach(function (k) { if (!(k in v)) out.push(path + ": missing required property " + k); });
    var props = s.properties || {};
    for (var k in v) {
      if (props[k] !== undefined) schemaErrors(v[k], props[k], path + "." + k, out);
      else if (s.additionalProperties === false) out.push(path + ": property " + k + " is not allowed");
      else if (typeof s.additionalProperties === "object") schemaErrors(v[k], s.additionalProperties, path + "." + k, out);
    }
  }
  if (s.allOf) s.allOf.forEach(function (x) { schemaErrors(v, x, path, out); });
  if (s.anyOf && !s.anyOf.some(function (x) { return schemaErrors(v, x, path, []).length === 0; })) out.push(path + ": matches none of anyOf");
  if (s.oneOf && s.oneOf.filter(function (x) { return schemaErrors(v, x, path, []).length === 0; }).length !== 1) out.push(path + ": does not match exactly one of oneOf");
  if (s.not && schemaErrors(v, s.not, path, []).length === 0) out.push(path + ": matches a schema it must not");
  return out;
}
var tv4 = __lib.tv4 = {
  error: null, errors: [],
  validate: function (data, schema) { var e = schemaErrors(data, schema, "data", []); tv4.errors = e; tv4.error = e.length ? { message: e[0] } : null; return e.length === 0; },
  validateResult: function (data, schema) { var ok = tv4.validate(data, schema); return { valid: ok, error: tv4.error, missing: [] }; },
  validateMultiple: function (data, schema) { var ok = tv4.validate(data, schema); return { valid: ok, errors: tv4.errors.map(function (m) { return { message: m }; }), missing: [] }; }
};
__method(["jsonSchema"], function (schema) {
  var e = schemaErrors(this._obj, schema, "data", []);
  return this._assert(e.length === 0, "expected data to satisfy schema but found following errors: " + e.join(", "), "expected data to not satisfy schema", "valid");
});

var b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
__lib.btoa = function (s) {
  s = String(s); var out = "";
  for (var i = 0; i < s.length; i += 3) {
    var a = s.charCodeAt(i), b = s.charCodeAt(i + 1), c = s.charCodeAt(i + 2);
    if (a > 255 || b > 255 || c > 255) throw new Error("btoa: the string has characters outside Latin-1");
    var n = (a << 16) | ((b || 0) << 8) | (c || 0);
    out += b64[(n >> 18) & 63] + b64[(n >> 12) & 63] + (i + 1 < s.length ? b64[(n >> 6) & 63] : "=") + (i + 2 < s.length ? b64[n & 63] : "=");
  }
  return out;
}
__lib.atob = function (s) {
  s = String(s).replace(/[\s=]+/g, ""); var out = "", bits = 0, n = 0;
  for (var i = 0; i < s.length; i++) {
    var v = b64.indexOf(s[i]);
    if (v < 0) throw new Error("atob: not base64");
    n = (n << 6) | v; bits += 6;
    if (bits >= 8) { bits -= 8; out += String.fromCharCode((n >> bits) & 255); }
  }
  return out;
}
// pm.response.to.have.body / jsonBody / jsonSchema: `this` is {res, chain}, `args` the call's.
__lib.have = {
  body: function (args) {
    var res = this.res, v = args[0];
    if (!args.length && !res.body.length) throw __AssertionError("expected response to have content in body", "a body", "empty");
    if (args.length && (v instanceof RegExp ? !v.test(res.body) : res.body !== v)) throw __AssertionError("expected response body to equal " + __str(v), __str(v), res.body);
    return this.chain;
  },
  jsonBody: function (args) {
    var res = this.res, path = args[0], value = args[1], j;
    try { j = JSON.parse(res.body); } catch (e) { throw __AssertionError("expected response body to be a valid json but got error " + e.message, "JSON", "not JSON"); }
    if (path !== undefined) {
      if (typeof path === "object") { if (!__deepEqual(j, path)) throw __AssertionError("expected response body json to equal " + __str(path), __str(path), res.body); return this.chain; }
      var r = __path(j, path);
      if (!r.has) throw __AssertionError("expected " + __str(j) + " to have nested property '" + path + "'", path, "absent");
      if (args.length > 1 && !__deepEqual(r.value, value)) throw __AssertionError("expected '" + path + "' to be " + __str(value) + " but got " + __str(r.value), __str(value), __str(r.value));
    }
    return this.chain;
  },
  jsonSchema: function (args) {
    var j;
    try { j = JSON.parse(this.res.body); } catch (e) { throw __AssertionError("expected response body to be a valid json", "JSON", "not JSON"); }
    var e = schemaErrors(j, args[0], "data", []);
    if (e.length) throw __AssertionError("expected data to satisfy schema but found following errors: " + e.join(", "), "valid", e[0]);
    return this.chain;
  }
};
// pm.request.url: the URL, and its query as a list a pre-request script may change.
__lib.url = function (__req) {
  var parse = function () {
    var u = __req.url, q = u.indexOf("?"), hash = u.indexOf("#");
    var base = q < 0 ? u : u.slice(0, q), query = q < 0 ? "" : u.slice(q + 1, hash < 0 ? undefined : hash);
    var list = query === "" ? [] : query.split("&").map(function (p) { var i = p.indexOf("="); return i < 0 ? { key: p, value: null } : { key: p.slice(0, i), value: p.slice(i + 1) }; });
    return { base: base, list: list };
  };
  var write = function (base, list) {
    __req.url = base + (list.length ? "?" + list.map(function (p) { return p.value === null ? p.key : p.key + "=" + p.value; }).join("&") : "");
  };
  var query = {
    get: function (k) { var l = parse().list; for (var i = 0; i < l.length; i++) if (l[i].key === k) return l[i].value; return undefined; },
    has: function (k) { return query.get(k) !== undefined; },
    all: function () { return parse().list; },
    toObject: function () { var o = {}; parse().list.forEach(function (p) { o[p.key] = p.value; }); return o; },
    each: function (f) { parse().list.forEach(f); },
    count: function () { return parse().list.length; },
    add: function (p) { var u = parse(); if (typeof p === "string") { var i = p.indexOf("="); p = i < 0 ? { key: p, value: null } : { key: p.slice(0, i), value: p.slice(i + 1) }; } u.list.push({ key: p.key, value: p.value === undefined ? null : String(p.value) }); write(u.base, u.list); },
    upsert: function (p) { var u = parse(), found = false; u.list.forEach(function (x) { if (x.key === p.key) { x.value = String(p.value); found = true; } }); if (!found) u.list.push({ key: p.key, value: String(p.value) }); write(u.base, u.list); },
    remove: function (k) { var u = parse(); write(u.base, u.list.filter(function (x) { return typeof k === "function" ? !k(x) : x.key !== k; })); },
    clear: function () { write(parse().base, []); }
  };
  return {
    query: query,
    toString: function () { return __req.url; },
    getHost: function () { var m = /^[a-z]+:\/\/([^\/:?]+)/i.exec(__req.url); return m ? m[1] : ""; },
    getPath: function () { var m = /^[a-z]+:\/\/[^\/?]*(\/[^?#]*)?/i.exec(__req.url); return (m && m[1]) || "/"; },
    getQueryString: function () { var u = parse(); return u.list.map(function (p) { return p.value === null ? p.key : p.key + "=" + p.value; }).join("&"); },
    getPathWithQuery: function () { var q = this.getQueryString(); return this.getPath() + (q ? "?" + q : ""); }
  };
};
// ---- lodash (`_`, `require('lodash')`): the helpers collections use ---------------------------
var isObj = function (v) { return v !== null && typeof v === "object"; };
var iter = function (f) {
  if (typeof f === "function") return f;
  if (typeof f === "string") return function (o) { return getPath(o, f); };
  if (Array.isArray(f)) return function (o) { return getPath(o, f[0]) === f[1]; };
  if (isObj(f)) return function (o) { for (var k in f) if (!__deepEqual(getPath(o, k), f[k])) return false; return true; };
  return function (o) { return o; };
};
var toPath = function (p) { return Array.isArray(p) ? p : String(p).replace(/\[(\w+)\]/g, ".$1").split(".").filter(function (x) { return x !== ""; }); };
var getPath = function (o, p) { var parts = toPath(p); for (var i = 0; i < parts.length; i++) { if (o === null || o === undefined) return undefined; o = o[parts[i]]; } return o; };
var list = function (c) { return Array.isArray(c) ? c : (isObj(c) ? Object.keys(c).map(function (k) { return c[k]; }) : (typeof c === "string" ? c.split("") : [])); };
var lodash = {
  get: function (o, p, d) { var v = getPath(o, p); return v === undefined ? d : v; },
  set: function (o, p, v) { var parts = toPath(p), cur = o; for (var i = 0; i < parts.length - 1; i++) { if (!isObj(cur[parts[i]])) cur[parts[i]] = /^\d+$/.test(parts[i + 1]) ? [] : {}; cur = cur[parts[i]]; } cur[parts[parts.length - 1]] = v; return o; },
  has: function (o, p) { var parts = toPath(p); for (var i = 0; i < parts.length; i++) { if (!isObj(o) || !Object.prototype.hasOwnProperty.call(o, parts[i])) return false; o = o[parts[i]]; } return true; },
  isEmpty: function (v) { return v === null || v === undefined || (typeof v === "string" || Array.isArray(v) ? v.length === 0 : (isObj(v) ? Object.keys(v).length === 0 : true)); },
  isEqual: function (a, b) { return __deepEqual(a, b); },
  isString: function (v) { return typeof v === "string"; },
  isNumber: function (v) { return typeof v === "number"; },
  isBoolean: function (v) { return typeof v === "boolean"; },
  isArray: Array.isArray,
  isObject: function (v) { return v !== null && (typeof v === "object" || typeof v === "function"); },
  isPlainObject: function (v) { return isObj(v) && !Array.isArray(v); },
  isNil: function (v) { return v === null || v === undefined; },
  isNull: function (v) { return v === null; },
  isUndefined: function (v) { return v === undefined; },
  isFunction: function (v) { return typeof v === "function"; },
  keys: function (o) { return isObj(o) ? Object.keys(o) : []; },
  values: function (o) { return list(o); },
  map: function (c, f) { var g = iter(f); return Array.isArray(c) ? c.map(function (x, i) { return g(x, i, c); }) : Object.keys(c || {}).map(function (k) { return g(c[k], k, c); }); },
  filter: function (c, f) { var g = iter(f); return list(c).filter(function (x, i) { return g(x, i, c); }); },
  reject: function (c, f) { var g = iter(f); return list(c).filter(function (x, i) { return !g(x, i, c); }); },
  find: function (c, f) { var g = iter(f), l = list(c); for (var i = 0; i < l.length; i++) if (g(l[i], i, c)) return l[i]; return undefined; },
  findIndex: function (a, f) { var g = iter(f); for (var i = 0; i < (a || []).length; i++) if (g(a[i], i, a)) return i; return -1; },
  each: function (c, f) { if (Array.isArray(c)) { for (var i = 0; i < c.length; i++) if (f(c[i], i, c) === false) break; } else for (var k in c) if (f(c[k], k, c) === false) break; return c; },
  some: function (c, f) { var g = iter(f); return list(c).some(function (x, i) { return g(x, i, c); }); },
  every: function (c, f) { var g = iter(f); return list(c).every(function (x, i) { return g(x, i, c); }); },
  includes: function (c, v) { return typeof c === "string" ? c.indexOf(v) >= 0 : list(c).some(function (x) { return x === v || (v !== v && x !== x); }); },
  uniq: function (a) { var out = []; (a || []).forEach(function (x) { if (out.indexOf(x) < 0) out.push(x); }); return out; },
  uniqBy: function (a, f) { var g = iter(f), seen = [], out = []; (a || []).forEach(function (x) { var k = g(x); if (!seen.some(function (s) { return __deepEqual(s, k); })) { seen.push(k); out.push(x); } }); return out; },
  flatten: function (a) { return [].concat.apply([], a || []); },
  flattenDeep: function (a) { return (a || []).reduce(function (o, x) { return o.concat(Array.isArray(x) ? lodash.flattenDeep(x) : x); }, []); },
  compact: function (a) { return (a || []).filter(Boolean); },
  sortBy: function (c, f) { var g = iter(f || function (x) { return x; }); return list(c).map(function (x, i) { return [g(x), i, x]; }).sort(function (a, b) { return a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] - b[1]; }).map(function (t) { return t[2]; }); },
  groupBy: function (c, f) { var g = iter(f), out = {}; list(c).forEach(function (x) { var k = g(x); (out[k] = out[k] || []).push(x); }); return out; },
  countBy: function (c, f) { var g = iter(f), out = {}; list(c).forEach(function (x) { var k = g(x); out[k] = (out[k] || 0) + 1; }); return out; },
  keyBy: function (c, f) { var g = iter(f), out = {}; list(c).forEach(function (x) { out[g(x)] = x; }); return out; },
  pick: function (o, ks) { ks = [].concat(ks); var out = {}; ks.forEach(function (k) { if (o && k in o) out[k] = o[k]; }); return out; },
  omit: function (o, ks) { ks = [].concat(ks); var out = {}; for (var k in o) if (ks.indexOf(k) < 0) out[k] = o[k]; return out; },
  merge: function (t) { for (var i = 1; i < arguments.length; i++) { var s = arguments[i]; for (var k in s) { if (isObj(s[k]) && isObj(t[k])) lodash.merge(t[k], s[k]); else if (s[k] !== undefined) t[k] = s[k]; } } return t; },
  assign: function () { return Object.assign.apply(Object, arguments); },
  clone: function (v) { return Array.isArray(v) ? v.slice() : (isObj(v) ? Object.assign({}, v) : v); },
  cloneDeep: function (v) { return v === undefined ? v : JSON.parse(JSON.stringify(v)); },
  random: function (a, b) { if (b === undefined) { b = a === undefined ? 1 : a; a = 0; } return a + Math.floor(Math.random() * (b - a + 1)); },
  range: function (a, b, step) { if (b === undefined) { b = a; a = 0; } step = step || 1; var out = []; for (var i = a; step > 0 ? i < b : i > b; i += step) out.push(i); return out; },
  times: function (n, f) { var out = []; for (var i = 0; i < n; i++) out.push(f ? f(i) : i); return out; },
  first: function (a) { return a ? a[0] : undefined; },
  head: function (a) { return a ? a[0] : undefined; },
  last: function (a) { return a && a.length ? a[a.length - 1] : undefined; },
  size: function (c) { return c === null || c === undefined ? 0 : (typeof c === "string" || Array.isArray(c) ? c.length : Object.keys(c).length); },
  sum: function (a) { return (a || []).reduce(function (s, x) { return s + x; }, 0); },
  sumBy: function (a, f) { var g = iter(f); return (a || []).reduce(function (s, x) { return s + g(x); }, 0); },
  max: function (a) { return a && a.length ? a.reduce(function (m, x) { return x > m ? x : m; }) : undefined; },
  min: function (a) { return a && a.length ? a.reduce(function (m, x) { return x < m ? x : m; }) : undefined; },
  difference: function (a, b) { return (a || []).filter(function (x) { return (b || []).indexOf(x) < 0; }); },
  intersection: function (a, b) { return (a || []).filter(function (x) { return (b || []).indexOf(x) >= 0; }); },
  chunk: function (a, n) { var out = []; for (var i = 0; i < (a || []).length; i += (n || 1)) out.push(a.slice(i, i + (n || 1))); return out; },
  trim: function (s) { return String(s === undefined || s === null ? "" : s).trim(); },
  startsWith: function (s, p) { return String(s).indexOf(p) === 0; },
  endsWith: function (s, p) { s = String(s); return s.slice(s.length - String(p).length) === String(p); },
  capitalize: function (s) { s = String(s); return s.charAt(0).toUpperCase() + s.slice(1).toLowerCase(); },
  upperFirst: function (s) { s = String(s); return s.charAt(0).toUpperCase() + s.slice(1); },
  toLower: function (s) { return String(s).toLowerCase(); },
  toUpper: function (s) { return String(s).toUpperCase(); },
  padStart: function (s, n, c) { s = String(s); c = c === undefined ? " " : String(c); var pad = ""; while (c && pad.length < n - s.length) pad += c; return pad.slice(0, Math.max(0, n - s.length)) + s; },
  toNumber: function (v) { return Number(v); },
  toString: function (v) { return v === null || v === undefined ? "" : String(v); },
  noop: function () {},
  identity: function (v) { return v; }
};
lodash.forEach = lodash.each;
lodash.contains = lodash.includes;
__lib.lodash = lodash;

// ---- CryptoJS: hashes, HMAC and the encoders, with Rust's ring doing the digests ---------------
function WordArray(bytes) { this.bytes = bytes; this.sigBytes = bytes.length; }
var hexOf = function (bytes) { return bytes.map(function (b) { return (b < 16 ? "0" : "") + b.toString(16); }).join(""); };
var bytesOfHex = function (h) { var out = []; for (var i = 0; i + 1 < h.length; i += 2) out.push(parseInt(h.substr(i, 2), 16)); return out; };
var utf8 = function (s) { s = unescape(encodeURIComponent(String(s))); var out = []; for (var i = 0; i < s.length; i++) out.push(s.charCodeAt(i)); return out; };
var fromUtf8 = function (bytes) { var s = ""; bytes.forEach(function (b) { s += String.fromCharCode(b); }); try { return decodeURIComponent(escape(s)); } catch (e) { throw new Error("Malformed UTF-8 data"); } };
var latin = function (bytes) { var s = ""; bytes.forEach(function (b) { s += String.fromCharCode(b); }); return s; };
var enc = {
  Hex: { stringify: function (w) { return hexOf(w.bytes); }, parse: function (h) { return new WordArray(bytesOfHex(String(h))); } },
  Utf8: { stringify: function (w) { return fromUtf8(w.bytes); }, parse: function (s) { return new WordArray(utf8(s)); } },
  Latin1: { stringify: function (w) { return latin(w.bytes); }, parse: function (s) { var out = []; s = String(s); for (var i = 0; i < s.length; i++) out.push(s.charCodeAt(i) & 255); return new WordArray(out); } },
  Base64: { stringify: function (w) { return __lib.btoa(latin(w.bytes)); }, parse: function (b) { var s = __lib.atob(String(b)), out = []; for (var i = 0; i < s.length; i++) out.push(s.charCodeAt(i)); return new WordArray(out); } }
};
WordArray.prototype.toString = function (encoder) { return (encoder || enc.Hex).stringify(this); };
WordArray.prototype.concat = function (w) { this.bytes = this.bytes.concat(w.bytes); this.sigBytes = this.bytes.length; return this; };
var bytesOf = function (v) { return v instanceof WordArray ? v.bytes : utf8(v); };
var digest = function (alg) { return function (msg) { return new WordArray(bytesOfHex(__digestNative(alg, hexOf(bytesOf(msg)), ""))); }; };
var hmac = function (alg) { return function (msg, key) { return new WordArray(bytesOfHex(__digestNative(alg, hexOf(bytesOf(msg)), hexOf(bytesOf(key))))); }; };
var unsupported = function (name) { return function () { throw new Error("CryptoJS." + name + " is not available in fhircheck scripts (hashes: SHA1, SHA256, SHA384, SHA512, MD5 and their HMACs; AES; encoders: Hex, Utf8, Latin1, Base64)"); }; };
__lib.CryptoJS = {
  SHA1: digest("sha1"), SHA256: digest("sha256"), SHA384: digest("sha384"), SHA512: digest("sha512"), MD5: digest("md5"),
  HmacSHA1: hmac("sha1"), HmacSHA256: hmac("sha256"), HmacSHA384: hmac("sha384"), HmacSHA512: hmac("sha512"), HmacMD5: hmac("md5"),
  enc: enc,
  lib: { WordArray: { create: function (bytes) { return new WordArray(bytes || []); } } },
  SHA3: unsupported("SHA3"), RIPEMD160: unsupported("RIPEMD160"), PBKDF2: unsupported("PBKDF2"),
  TripleDES: { encrypt: unsupported("TripleDES"), decrypt: unsupported("TripleDES") },
  DES: { encrypt: unsupported("DES"), decrypt: unsupported("DES") },
  Rabbit: { encrypt: unsupported("Rabbit"), decrypt: unsupported("Rabbit") },
  RC4: { encrypt: unsupported("RC4"), decrypt: unsupported("RC4") }
};
// CryptoJS.AES: the block work in Rust (`cipher.rs`); a passphrase becomes key and IV with
// OpenSSL's EVP_BytesToKey and a random salt, and the result prints in OpenSSL's format.
var named = function (names) { var o = {}; names.forEach(function (n) { o[n] = { name: n }; }); return o; };
__lib.CryptoJS.mode = named(["CBC", "ECB", "CFB", "OFB", "CTR"]);
__lib.CryptoJS.pad = named(["Pkcs7", "AnsiX923", "Iso10126", "Iso97971", "ZeroPadding", "NoPadding"]);
var aesNative = function (op, cfg, key, iv, data) {
  var out = __aesNative(op, (cfg.mode || __lib.CryptoJS.mode.CBC).name, (cfg.padding || __lib.CryptoJS.pad.Pkcs7).name,
    hexOf(key.bytes), iv ? hexOf(iv.bytes) : "", hexOf(data.bytes));
  if (out.charAt(0) === "!") throw new Error("CryptoJS.AES: " + out.slice(1));
  return new WordArray(bytesOfHex(out));
};
var SALTED = [83, 97, 108, 116, 101, 100, 95, 95]; // "Salted__"
var OpenSSL = {
  stringify: function (p) {
    var bytes = p.salt ? SALTED.concat(p.salt.bytes, p.ciphertext.bytes) : p.ciphertext.bytes;
    return enc.Base64.stringify(new WordArray(bytes));
  },
  parse: function (text) {
    var bytes = enc.Base64.parse(text).bytes, salt;
    if (bytes.length >= 16 && SALTED.every(function (b, i) { return bytes[i] === b; })) { salt = new WordArray(bytes.slice(8, 16)); bytes = bytes.slice(16); }
    return new CipherParams({ ciphertext: new WordArray(bytes), salt: salt });
  }
};
function CipherParams(p) { for (var k in p) this[k] = p[k]; }
CipherParams.prototype.toString = function (formatter) { return (formatter || this.formatter || OpenSSL).stringify(this); };
__lib.CryptoJS.format = { OpenSSL: OpenSSL, Hex: { stringify: function (p) { return hexOf(p.ciphertext.bytes); }, parse: function (h) { return new CipherParams({ ciphertext: enc.Hex.parse(h) }); } } };
__lib.CryptoJS.lib.CipherParams = { create: function (p) { return new CipherParams(p); } };
var fromPassphrase = function (pass, salt) {
  var kv = bytesOfHex(__evpNative(hexOf(utf8(String(pass))), hexOf(salt.bytes)));
  return { key: new WordArray(kv.slice(0, 32)), iv: new WordArray(kv.slice(32, 48)) };
};
__lib.CryptoJS.AES = {
  encrypt: function (message, key, cfg) {
    cfg = cfg || {};
    var data = message instanceof WordArray ? message : new WordArray(utf8(String(message))), salt, iv = cfg.iv;
    if (!(key instanceof WordArray)) {
      salt = cfg.salt || new WordArray(bytesOfHex(__dynamicNative("$guid").replace(/-/g, "").slice(0, 16)));
      var d = fromPassphrase(key, salt); key = d.key; iv = d.iv;
    }
    var ct = aesNative("encrypt", cfg, key, iv, data);
    return new CipherParams({ ciphertext: ct, key: key, iv: iv, salt: salt, mode: cfg.mode, padding: cfg.padding, formatter: cfg.format });
  },
  decrypt: function (ciphertext, key, cfg) {
    cfg = cfg || {};
    var p = typeof ciphertext === "string" ? (cfg.format || OpenSSL).parse(ciphertext) : ciphertext, iv = cfg.iv;
    if (!(key instanceof WordArray)) {
      if (!p.salt) throw new Error("CryptoJS.AES.decrypt: a passphrase needs the salt of OpenSSL's format (\"U2FsdGVkX1...\")");
      var d = fromPassphrase(key, p.salt); key = d.key; iv = d.iv;
    }
    return aesNative("decrypt", cfg, key, iv, p.ciphertext);
  }
};
// ---- moment (`require('moment')`): the parsing, arithmetic and formatting collections use, in UTC
var MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];
var DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
var UNITS = { ms: 1, millisecond: 1, milliseconds: 1, s: 1e3, second: 1e3, seconds: 1e3, m: 6e4, minute: 6e4, minutes: 6e4,
  h: 36e5, hour: 36e5, hours: 36e5, d: 864e5, day: 864e5, days: 864e5, w: 6048e5, week: 6048e5, weeks: 6048e5 };
var pad = function (n, w) { n = String(Math.abs(n)); while (n.length < w) n = "0" + n; return n; };
function Moment(ms) { this._ms = ms; }
var mp = Moment.prototype;
mp._d = function () { return new Date(this._ms); };
mp.clone = function () { return new Moment(this._ms); };
mp.utc = function () { return this; };
mp.local = function () { return this; };
mp.isValid = function () { return !isNaN(this._ms); };
mp.valueOf = function () { return this._ms; };
mp.unix = function () { return Math.floor(this._ms / 1000); };
mp.toDate = function () { return this._d(); };
mp.toISOString = function () { return this._d().toISOString(); };
mp.toJSON = mp.toISOString;
mp.toString = function () { return this._d().toUTCString(); };
var months = function (m, n) { var d = m._d(); var day = d.getUTCDate(); d.setUTCDate(1); d.setUTCMonth(d.getUTCMonth() + n); var last = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0)).getUTCDate(); d.setUTCDate(Math.min(day, last)); return d.getTime(); };
mp.add = function (n, unit) {
  if (typeof n === "object") { for (var k in n) this.add(n[k], k); return this; }
  unit = String(unit || "ms"); n = Number(n);
  if (/^(M|month|months)$/.test(unit)) this._ms = months(this, n);
  else if (/^(y|year|years)$/.test(unit)) this._ms = months(this, 12 * n);
  else if (/^(Q|quarter|quarters)$/.test(unit)) this._ms = months(this, 3 * n);
  else if (UNITS[unit]) this._ms += n * UNITS[unit];
  else throw new Error("moment: the unit " + unit + " is not available in fhircheck scripts");
  return this;
};
mp.subtract = function (n, unit) { return typeof n === "object" ? this.add(Object.keys(n).reduce(function (o, k) { o[k] = -n[k]; return o; }, {})) : this.add(-n, unit); };
mp.startOf = function (unit) {
  var d = this._d();
  switch (unit) {
    case "year": case "years": case "y": d.setUTCMonth(0); /* falls through */
    case "month": case "months": case "M": d.setUTCDate(1); /* falls through */
    case "day": case "days": case "d": case "date": d.setUTCHours(0); /* falls through */
    case "hour": case "hours": case "h": d.setUTCMinutes(0); /* falls through */
    case "minute": case "minutes": case "m": d.setUTCSeconds(0); /* falls through */
    case "second": case "seconds": case "s": d.setUTCMilliseconds(0); break;
    default: throw new Error("moment: startOf('" + unit + "') is not available in fhircheck scripts");
  }
  this._ms = d.getTime();
  return this;
};
mp.endOf = function (unit) { var u = { year: "y", years: "y", y: "y", month: "M", months: "M", M: "M" }[unit] || unit; return this.startOf(unit).add(1, u).add(-1, "ms"); };
mp.diff = function (other, unit, exact) {
  var o = other instanceof Moment ? other._ms : moment(other)._ms, d = this._ms - o;
  if (/^(M|month|months)$/.test(unit || "")) { var a = this._d(), b = new Date(o); d = (a.getUTCFullYear() - b.getUTCFullYear()) * 12 + a.getUTCMonth() - b.getUTCMonth(); return d; }
  if (/^(y|year|years)$/.test(unit || "")) { return this._d().getUTCFullYear() - new Date(o).getUTCFullYear(); }
  var r = d / (UNITS[unit || "ms"] || 1);
  return exact ? r : (r < 0 ? Math.ceil(r) : Math.floor(r));
};
mp.isBefore = function (o) { return this._ms < moment(o)._ms; };
mp.isAfter = function (o) { return this._ms > moment(o)._ms; };
mp.isSame = function (o) { return this._ms === moment(o)._ms; };
["year:FullYear", "month:Month", "date:Date", "day:Day", "hour:Hours", "hours:Hours", "minute:Minutes", "minutes:Minutes", "second:Seconds", "seconds:Seconds", "millisecond:Milliseconds"].forEach(function (x) {
  var p = x.split(":");
  mp[p[0]] = function () { return this._d()["getUTC" + p[1]](); };
});
var TOKENS = /\[([^\]]*)\]|YYYY|YY|MMMM|MMM|MM|M|DDDD|DD|D|dddd|ddd|d|HH|H|hh|h|mm|m|ss|s|SSS|A|a|ZZ|Z|X|x/g;
mp.format = function (f) {
  var d = this._d();
  if (f === undefined) f = "YYYY-MM-DDTHH:mm:ss[Z]"; // moment's default in UTC mode
  var h = d.getUTCHours();
  return String(f).replace(TOKENS, function (t, lit) {
    if (lit !== undefined) return lit;
    switch (t) {
      case "YYYY": return pad(d.getUTCFullYear(), 4);
      case "YY": return pad(d.getUTCFullYear() % 100, 2);
      case "MMMM": return MONTHS[d.getUTCMonth()];
      case "MMM": return MONTHS[d.getUTCMonth()].slice(0, 3);
      case "MM": return pad(d.getUTCMonth() + 1, 2);
      case "M": return String(d.getUTCMonth() + 1);
      case "DD": return pad(d.getUTCDate(), 2);
      case "D": return String(d.getUTCDate());
      case "DDDD": return pad(Math.floor((d - Date.UTC(d.getUTCFullYear(), 0, 1)) / 864e5) + 1, 3);
      case "dddd": return DAYS[d.getUTCDay()];
      case "ddd": return DAYS[d.getUTCDay()].slice(0, 3);
      case "d": return String(d.getUTCDay());
      case "HH": return pad(h, 2);
      case "H": return String(h);
      case "hh": return pad(h % 12 || 12, 2);
      case "h": return String(h % 12 || 12);
      case "mm": return pad(d.getUTCMinutes(), 2);
      case "m": return String(d.getUTCMinutes());
      case "ss": return pad(d.getUTCSeconds(), 2);
      case "s": return String(d.getUTCSeconds());
      case "SSS": return pad(d.getUTCMilliseconds(), 3);
      case "A": return h < 12 ? "AM" : "PM";
      case "a": return h < 12 ? "am" : "pm";
      case "ZZ": return "+0000";
      case "Z": return "+00:00";
      case "X": return String(Math.floor(d.getTime() / 1000));
      case "x": return String(d.getTime());
    }
    return t;
  });
};
function moment(input) {
  if (input instanceof Moment) return input.clone();
  if (input === undefined || input === null) return new Moment(Date.now());
  if (typeof input === "number") return new Moment(input);
  if (input instanceof Date) return new Moment(input.getTime());
  var s = String(input);
  // A date without a zone is read as UTC here (Postman reads it in the machine's zone).
  if (/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?$/.test(s)) s += s.length === 10 ? "T00:00:00Z" : "Z";
  return new Moment(Date.parse(s));
}
moment.utc = moment;
moment.unix = function (sec) { return new Moment(sec * 1000); };
moment.isMoment = function (m) { return m instanceof Moment; };
// moment.duration: milliseconds, days and months kept apart as moment keeps them (a month has
// no fixed length), converted with moment's 400-year average only when asked.
var DUR = { ms: ["_ms", 1], s: ["_ms", 1e3], m: ["_ms", 6e4], h: ["_ms", 36e5], d: ["_days", 1], w: ["_days", 7], M: ["_months", 1], Q: ["_months", 3], y: ["_months", 12] };
var durUnit = function (u) {
  u = String(u || "ms");
  var alias = { millisecond: "ms", milliseconds: "ms", second: "s", seconds: "s", minute: "m", minutes: "m", hour: "h", hours: "h",
    day: "d", days: "d", date: "d", week: "w", weeks: "w", month: "M", months: "M", quarter: "Q", quarters: "Q", year: "y", years: "y" };
  var k = DUR[u] ? u : alias[u] || alias[u.toLowerCase()];
  if (!k) throw new Error("moment.duration: the unit " + u + " is not available in fhircheck scripts");
  return k;
};
var daysToMonths = function (d) { return d * 4800 / 146097; };
var monthsToDays = function (m) { return m * 146097 / 4800; };
var absFloor = function (n) { return n < 0 ? Math.ceil(n) || 0 : Math.floor(n); };
function Duration() { this._ms = 0; this._days = 0; this._months = 0; }
var dp = Duration.prototype;
dp._add = function (n, unit, sign) {
  if (n instanceof Duration) { this._ms += sign * n._ms; this._days += sign * n._days; this._months += sign * n._months; return this; }
  if (n !== null && typeof n === "object") { for (var k in n) this._add(Number(n[k]), k, sign); return this; }
  var u = DUR[durUnit(unit)]; this[u[0]] += sign * Number(n) * u[1]; return this;
};
dp.add = function (n, unit) { return this._add(n, unit, 1); };
dp.subtract = function (n, unit) { return this._add(n, unit, -1); };
dp.clone = function () { return new Duration()._add(this, null, 1); };
dp.as = function (unit) {
  var k = durUnit(unit);
  if (k === "M" || k === "Q" || k === "y") { var months = this._months + daysToMonths(this._days + this._ms / 864e5); return months / DUR[k][1]; }
  var days = this._days + monthsToDays(this._months);
  var ms = days * 864e5 + this._ms;
  return ms / (DUR[k][0] === "_days" ? 864e5 * DUR[k][1] : DUR[k][1]);
};
dp.valueOf = dp.asMilliseconds = function () { return this.as("ms"); };
["Seconds:s", "Minutes:m", "Hours:h", "Days:d", "Weeks:w", "Months:M", "Quarters:Q", "Years:y"].forEach(function (x) {
  var p = x.split(":"); dp["as" + p[0]] = function () { return this.as(p[1]); };
});
// The parts, bubbled up as moment does: 90 minutes is 1 hour and 30 minutes.
dp._bubble = function () {
  var ms = this._ms, days = this._days, months = this._months;
  var all = ms >= 0 && days >= 0 && months >= 0, none = ms <= 0 && days <= 0 && months <= 0;
  if (!all && !none) { ms += absFloor(monthsToDays(months) + days) * 864e5; days = 0; months = 0; }
  var b = { ms: ms % 1000 };
  var secs = absFloor(ms / 1000); b.s = secs % 60;
  var mins = absFloor(secs / 60); b.m = mins % 60;
  var hours = absFloor(mins / 60); b.h = hours % 24;
  days += absFloor(hours / 24);
  var extra = absFloor(daysToMonths(days)); months += extra;
  days -= absFloor(monthsToDays(extra));
  b.d = days; b.M = months % 12; b.y = absFloor(months / 12);
  return b;
};
["milliseconds:ms", "seconds:s", "minutes:m", "hours:h", "days:d", "months:M", "years:y"].forEach(function (x) {
  var p = x.split(":"); dp[p[0]] = function () { return this._bubble()[p[1]]; };
});
dp.weeks = function () { return absFloor(this.days() / 7); };
dp.get = function (unit) { var k = durUnit(unit); return k === "w" ? this.weeks() : this._bubble()[k]; };
dp.isValid = function () { return !isNaN(this._ms + this._days + this._months); };
dp.humanize = function (withSuffix) {
  var r = Math.round, s = r(Math.abs(this.as("s"))), m = r(Math.abs(this.as("m"))), h = r(Math.abs(this.as("h"))),
    d = r(Math.abs(this.as("d"))), M = r(Math.abs(this.as("M"))), y = r(Math.abs(this.as("y")));
  var text = s < 45 ? "a few seconds" : m <= 1 ? "a minute" : m < 45 ? m + " minutes" : h <= 1 ? "an hour" :
    h < 22 ? h + " hours" : d <= 1 ? "a day" : d < 26 ? d + " days" : M <= 1 ? "a month" : M < 11 ? M + " months" :
    y <= 1 ? "a year" : y + " years";
  if (!withSuffix) return text;
  return this.valueOf() < 0 ? text + " ago" : "in " + text;
};
dp.toISOString = function () {
  var total = this.as("ms");
  if (!total && !this._months && !this._days) return "P0D";
  var secs = Math.abs(this._ms) / 1000, mins = absFloor(secs / 60), hours = absFloor(mins / 60);
  secs = +(secs % 60).toFixed(3); mins %= 60;
  var months = Math.abs(this._months), years = absFloor(months / 12); months %= 12;
  var days = Math.abs(this._days), sign = total < 0 ? "-" : "";
  var t = (hours ? hours + "H" : "") + (mins ? mins + "M" : "") + (secs ? secs + "S" : "");
  return sign + "P" + (years ? years + "Y" : "") + (months ? months + "M" : "") + (days ? days + "D" : "") + (t ? "T" + t : "");
};
dp.toJSON = dp.toString = dp.toISOString;
var ISO_DURATION = /^([-+])?P(?:([-+]?[0-9,.]*)Y)?(?:([-+]?[0-9,.]*)M)?(?:([-+]?[0-9,.]*)W)?(?:([-+]?[0-9,.]*)D)?(?:T(?:([-+]?[0-9,.]*)H)?(?:([-+]?[0-9,.]*)M)?(?:([-+]?[0-9,.]*)S)?)?$/;
var CLOCK = /^([-+])?(?:(\d*)[. ])?(\d+):(\d+)(?::(\d+)(\.\d*)?)?$/;
moment.duration = function (n, unit) {
  var d = new Duration(), m;
  if (n === undefined || n === null) return d;
  if (n instanceof Duration) return n.clone();
  if (typeof n === "number") return d.add(n, unit);
  if (typeof n === "object") return d.add(n);
  var text = String(n);
  if ((m = ISO_DURATION.exec(text))) {
    var sign = m[1] === "-" ? -1 : 1, num = function (x) { return x ? sign * parseFloat(x.replace(",", ".")) : 0; };
    return d.add({ y: num(m[2]), M: num(m[3]), w: num(m[4]), d: num(m[5]), h: num(m[6]), m: num(m[7]), s: num(m[8]) });
  }
  if ((m = CLOCK.exec(text))) {
    var sg = m[1] === "-" ? -1 : 1;
    return d.add({ d: sg * (+m[2] || 0), h: sg * +m[3], m: sg * +m[4], s: sg * (+m[5] || 0), ms: sg * Math.round((+m[6] || 0) * 1000) });
  }
  if (/^[-+]?\d+(\.\d+)?$/.test(text)) return d.add(Number(text), unit);
  throw new Error("moment.duration: `" + text + "` is not a duration fhircheck reads (ISO 8601 such as PT1H30M, 01:30:00, or a number and a unit)");
};
moment.isDuration = function (d) { return d instanceof Duration; };
var momentAdd = mp.add;
mp.add = function (n, unit) {
  if (n instanceof Duration) { momentAdd.call(this, n._months, "M"); momentAdd.call(this, n._days, "d"); return momentAdd.call(this, n._ms, "ms"); }
  return momentAdd.call(this, n, unit);
};
mp.subtract = function (n, unit) {
  if (n instanceof Duration) return this.add(n.clone()._add(n, null, -2));
  return typeof n === "object" ? this.add(Object.keys(n).reduce(function (o, k) { o[k] = -n[k]; return o; }, {})) : this.add(-n, unit);
};
__lib.moment = moment;
})();
// ---- xml2Json and require('xml2js').parseString: XML read into objects as the xml2js module does
// (attributes under "$", text under "_", a lone text as a string, repeated elements as arrays).
(function () {
var ENTITIES = { lt: "<", gt: ">", amp: "&", quot: "\"", apos: "'" };
var decode = function (t) {
  return t.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[A-Za-z]+);/g, function (all, e) {
    if (e.charAt(0) === "#") return String.fromCodePoint(e.charAt(1) === "x" ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10));
    return ENTITIES.hasOwnProperty(e) ? ENTITIES[e] : all;
  });
};
var NAME = /^[^\s/>]+/, ATTR = /^\s*([^\s=/>]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/;
function parse(xml, o) {
  var stack = [], result = null, i = 0, n = xml.length, AK = o.attrkey, CK = o.charkey;
  var text = function (t, cdata) {
    var top = stack[stack.length - 1];
    if (top) { top.obj[CK] += cdata ? t : decode(t); top.cdata = top.cdata || cdata; }
    else if (/\S/.test(t)) throw new Error(result ? "Text data outside of root node." : "Non-whitespace before first tag.");
  };
  var put = function (parent, key, value) {
    if (!(key in parent)) parent[key] = o.explicitArray ? [value] : value;
    else { if (!Array.isArray(parent[key])) parent[key] = [parent[key]]; parent[key].push(value); }
  };
  var close = function () {
    var node = stack.pop(), obj = node.obj, empty = "";
    if (/^\s*$/.test(obj[CK]) && !node.cdata) { empty = obj[CK]; delete obj[CK]; }
    else {
      if (o.trim) obj[CK] = obj[CK].trim();
      if (Object.keys(obj).length === 1 && CK in obj) obj = obj[CK];
    }
    if (obj !== null && typeof obj === "object" && Object.keys(obj).length === 0) obj = o.emptyTag !== "" ? o.emptyTag : empty;
    if (stack.length) put(stack[stack.length - 1].obj, node.name, obj);
    else if (o.explicitRoot) { result = {}; result[node.name] = obj; }
    else result = obj;
  };
  var skipTo = function (end, from, what) {
    var at = xml.indexOf(end, from);
    if (at < 0) throw new Error("Unclosed " + what);
    return at + end.length;
  };
  while (i < n) {
    var lt = xml.indexOf("<", i);
    if (lt < 0) { text(xml.slice(i), false); break; }
    if (lt > i) text(xml.slice(i, lt), false);
    if (xml.startsWith("<!--", lt)) { i = skipTo("-->", lt + 4, "comment"); continue; }
    if (xml.startsWith("<![CDATA[", lt)) { var e = skipTo("]]>", lt + 9, "CDATA section"); text(xml.slice(lt + 9, e - 3), true); i = e; continue; }
    if (xml.startsWith("<?", lt)) { i = skipTo("?>", lt + 2, "processing instruction"); continue; }
    if (xml.startsWith("<!", lt)) {
      var depth = 0, j = lt + 2;
      for (; j < n; j++) { var c = xml.charAt(j); if (c === "[") depth++; else if (c === "]") depth--; else if (c === ">" && depth <= 0) break; }
      i = j + 1; continue;
    }
    if (xml.charAt(lt + 1) === "/") {
      var gt = xml.indexOf(">", lt);
      if (gt < 0) throw new Error("Unclosed end tag");
      var name = xml.slice(lt + 2, gt).trim(), top = stack[stack.length - 1];
      if (!top || top.name !== name) throw new Error("Unexpected close tag </" + name + ">" + (top ? ", expected </" + top.name + ">" : ""));
      close(); i = gt + 1; continue;
    }
    if (result) throw new Error("Text data outside of root node.");
    var rest = xml.slice(lt + 1), m = NAME.exec(rest);
    if (!m) throw new Error("Invalid tag name at character " + lt);
    var node = { name: m[0], obj: {}, cdata: false }, k = m[0].length, a;
    node.obj[CK] = "";
    while ((a = ATTR.exec(rest.slice(k)))) {
      if (!o.ignoreAttrs) {
        var v = decode(a[2] !== undefined ? a[2] : a[3]);
        if (o.mergeAttrs) put(node.obj, a[1], v);
        else { node.obj[AK] = node.obj[AK] || {}; node.obj[AK][a[1]] = v; }
      }
      k += a[0].length;
    }
    var after = rest.slice(k).match(/^\s*(\/?)>/);
    if (!after) throw new Error("Unclosed tag <" + node.name + ">");
    stack.push(node);
    if (after[1]) close();
    i = lt + 1 + k + after[0].length;
  }
  if (stack.length) throw new Error("Unclosed root tag <" + stack[0].name + ">");
  if (!result) throw new Error("Non-whitespace before first tag.");
  return result;
}
var DEFAULTS = { explicitArray: true, trim: false, mergeAttrs: false, explicitRoot: true, ignoreAttrs: false, attrkey: "$", charkey: "_", emptyTag: "" };
__lib.xml2js = {
  parseString: function (xml, opts, cb) {
    if (typeof opts === "function") { cb = opts; opts = {}; }
    var o = {}, k;
    for (k in DEFAULTS) o[k] = DEFAULTS[k];
    for (k in opts || {}) o[k] = opts[k];
    var out, err = null;
    try { out = parse(String(xml), o); } catch (e) { err = e; out = null; }
    if (cb) cb(err, out);
    if (err && !cb) throw err;
  }
};
__lib.cheerio = { load: function () { throw new Error("cheerio is not available in fhircheck scripts: read an HTML page with string functions and regular expressions, or XHTML with xml2Json"); } };
// The legacy `responseHeaders` (prelude.js makes it on first read): look-ups ignore case.
__lib.caseBlind = function (obj) {
  var find = function (t, k) {
    if (typeof k !== "string" || k in t) return k;
    var lower = k.toLowerCase(), keys = Object.keys(t);
    for (var i = 0; i < keys.length; i++) if (keys[i].toLowerCase() === lower) return keys[i];
    return k;
  };
  return new Proxy(obj, {
    get: function (t, k) { return t[find(t, k)]; },
    has: function (t, k) { return find(t, k) in t; },
    getOwnPropertyDescriptor: function (t, k) { return Object.getOwnPropertyDescriptor(t, find(t, k)); }
  });
};
__lib.xml2Json = function (xml) {
  var json = {};
  __lib.xml2js.parseString(xml, { explicitArray: false, trim: true, mergeAttrs: false }, function (e, r) { json = r; });
  return json;
};
})();
