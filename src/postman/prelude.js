// The Postman sandbox API for fhircheck. Evaluated once per run; `__begin()` then sets up one
// script's state from `__input` (JSON text: the variable scopes, the request, the response, run
// info), and `__finish()` returns what the script changed, as JSON.
// Scripts get no file system and no network: none is provided here.
var __input, __s, __tests, __logs, __next, __nextSet, __req, __reqHeaders, __res, __skip;
var pm, console, tests, responseBody, responseCode, responseTime, responseHeaders;
var environment, globals, data, request, iteration, postman;

function __str(v) {
  if (v === undefined) return "undefined";
  if (v === null) return "null";
  if (typeof v === "string") return v;
  try { return JSON.stringify(v); } catch (e) { return String(v); }
}

function __scope(name) {
  var store = __s[name];
  return {
    get: function (k) { return Object.prototype.hasOwnProperty.call(store, k) ? store[k] : undefined; },
    // Values keep their type (a number stays a number), as in Postman.
    set: function (k, v) { store[k] = v; },
    unset: function (k) { delete store[k]; },
    has: function (k) { return Object.prototype.hasOwnProperty.call(store, k); },
    clear: function () { for (var k in store) delete store[k]; },
    toObject: function () { var o = {}; for (var k in store) o[k] = store[k]; return o; },
    replaceIn: function (t) { return __replace(t); }
  };
}

function __lookup(k) {
  var order = ["local", "data", "environment", "collection", "globals"];
  for (var i = 0; i < order.length; i++) {
    var s = __s[order[i]];
    if (s && Object.prototype.hasOwnProperty.call(s, k) && s[k] !== undefined) return s[k];
  }
  return undefined;
}

function __replace(t) {
  if (typeof t !== "string") return t;
  for (var depth = 0; depth < 10 && t.indexOf("{{") >= 0; depth++) {
    var before = t;
    t = t.replace(/\{\{\s*([^{}]+?)\s*\}\}/g, function (m, k) { var v = __lookup(k); return v === undefined ? m : String(v); });
    if (t === before) break;
  }
  return t;
}

function __headerList(list) {
  var h = list || [];
  return {
    get: function (k) { k = String(k).toLowerCase(); for (var i = 0; i < h.length; i++) if (h[i].key.toLowerCase() === k) return h[i].value; return undefined; },
    has: function (k) { return this.get(k) !== undefined; },
    add: function (e) { h.push({ key: e.key, value: __str(e.value) }); },
    upsert: function (e) { var k = e.key.toLowerCase(); for (var i = 0; i < h.length; i++) if (h[i].key.toLowerCase() === k) { h[i].value = __str(e.value); return; } h.push({ key: e.key, value: __str(e.value) }); },
    remove: function (k) { k = String(k).toLowerCase(); for (var i = h.length - 1; i >= 0; i--) if (h[i].key.toLowerCase() === k) h.splice(i, 1); },
    toObject: function () { var o = {}; for (var i = 0; i < h.length; i++) o[h[i].key] = h[i].value; return o; },
    each: function (f) { for (var i = 0; i < h.length; i++) f(h[i]); },
    all: function () { return h.slice(); }
  };
}

// ---- Chai's BDD subset ----------------------------------------------------------------------
function __AssertionError(message, expected, actual) {
  var e = new Error(message);
  e.name = "AssertionError";
  e.__expected = expected; e.__actual = actual;
  return e;
}

function __type(v) {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  return typeof v;
}

function __deepEqual(a, b) {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== "object") return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  var ka = Object.keys(a), kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  for (var i = 0; i < ka.length; i++) if (!__deepEqual(a[ka[i]], b[ka[i]])) return false;
  return true;
}

function Assertion(obj, message) {
  this._obj = obj; this._negate = false; this._deep = false; this._message = message;
}
["to", "be", "been", "is", "that", "which", "and", "has", "have", "with", "at", "of", "same", "but", "does", "still", "also"].forEach(function (w) {
  Object.defineProperty(Assertion.prototype, w, { get: function () { return this; } });
});
Object.defineProperty(Assertion.prototype, "not", { get: function () { this._negate = !this._negate; return this; } });
Object.defineProperty(Assertion.prototype, "deep", { get: function () { this._deep = true; return this; } });
Assertion.prototype._assert = function (ok, positive, negative, expected) {
  if (this._negate) ok = !ok;
  if (!ok) {
    var msg = (this._negate ? negative : positive).replace("#{act}", __str(this._obj)).replace("#{exp}", __str(expected));
    if (this._message) msg = this._message + ": " + msg;
    throw __AssertionError(msg, this._negate ? "not " + __str(expected) : __str(expected), __str(this._obj));
  }
  return this;
};
function __method(names, fn) { names.forEach(function (n) { Assertion.prototype[n] = fn; }); }
function __getter(names, fn) { names.forEach(function (n) { Object.defineProperty(Assertion.prototype, n, { get: fn }); }); }

__method(["equal", "equals", "eq"], function (v) {
  var ok = this._deep ? __deepEqual(this._obj, v) : this._obj === v;
  return this._assert(ok, "expected #{act} to equal #{exp}", "expected #{act} to not equal #{exp}", v);
});
__method(["eql", "eqls"], function (v) {
  return this._assert(__deepEqual(this._obj, v), "expected #{act} to deeply equal #{exp}", "expected #{act} to not deeply equal #{exp}", v);
});
__method(["oneOf"], function (list) {
  var o = this._obj, ok = false;
  for (var i = 0; i < list.length; i++) if (list[i] === o || __deepEqual(list[i], o)) ok = true;
  return this._assert(ok, "expected #{act} to be one of #{exp}", "expected #{act} to not be one of #{exp}", list);
});
__method(["include", "includes", "contain", "contains"], function (v) {
  var o = this._obj, ok = false;
  if (typeof o === "string") ok = o.indexOf(v) >= 0;
  else if (Array.isArray(o)) { for (var i = 0; i < o.length; i++) if (o[i] === v || __deepEqual(o[i], v)) ok = true; }
  else if (o && typeof o === "object" && v && typeof v === "object") { ok = true; for (var k in v) if (!__deepEqual(o[k], v[k])) ok = false; }
  return this._assert(ok, "expected #{act} to include #{exp}", "expected #{act} to not include #{exp}", v);
});
__method(["property"], function (name, value) {
  var o = this._obj;
  var has = o !== null && o !== undefined && (typeof o === "object" ? name in o : o[name] !== undefined);
  if (arguments.length > 1) {
    var ok = has && (this._deep ? __deepEqual(o[name], value) : o[name] === value);
    this._assert(ok, "expected #{act} to have property '" + name + "' of #{exp}", "expected #{act} to not have property '" + name + "' of #{exp}", value);
  } else {
    this._assert(has, "expected #{act} to have property '" + name + "'", "expected #{act} to not have property '" + name + "'", name);
  }
  if (has) { var next = new Assertion(o[name], this._message); return next; }
  return this;
});
__method(["a", "an"], function (t) {
  t = String(t).toLowerCase();
  return this._assert(__type(this._obj) === t, "expected #{act} to be a " + t, "expected #{act} not to be a " + t, t);
});
__method(["above", "gt", "greaterThan"], function (n) { return this._assert(this._obj > n, "expected #{act} to be above #{exp}", "expected #{act} to be at most #{exp}", n); });
__method(["below", "lt", "lessThan"], function (n) { return this._assert(this._obj < n, "expected #{act} to be below #{exp}", "expected #{act} to be at least #{exp}", n); });
__method(["least", "gte"], function (n) { return this._assert(this._obj >= n, "expected #{act} to be at least #{exp}", "expected #{act} to be below #{exp}", n); });
__method(["most", "lte"], function (n) { return this._assert(this._obj <= n, "expected #{act} to be at most #{exp}", "expected #{act} to be above #{exp}", n); });
__method(["within"], function (a, b) { return this._assert(this._obj >= a && this._obj <= b, "expected #{act} to be within " + a + ".." + b, "expected #{act} to not be within " + a + ".." + b, a + ".." + b); });
__method(["match", "matches"], function (re) { return this._assert(re.test(String(this._obj)), "expected #{act} to match #{exp}", "expected #{act} not to match #{exp}", String(re)); });
__method(["status"], function (code) { return pm.response.to.have.status.call(null, code); });
__getter(["exist"], function () { return this._assert(this._obj !== null && this._obj !== undefined, "expected #{act} to exist", "expected #{act} to not exist", "a value"); });
__getter(["true"], function () { return this._assert(this._obj === true, "expected #{act} to be true", "expected #{act} to be false", true); });
__getter(["false"], function () { return this._assert(this._obj === false, "expected #{act} to be false", "expected #{act} to be true", false); });
__getter(["null"], function () { return this._assert(this._obj === null, "expected #{act} to be null", "expected #{act} not to be null", null); });
__getter(["undefined"], function () { return this._assert(this._obj === undefined, "expected #{act} to be undefined", "expected #{act} not to be undefined", "undefined"); });
__getter(["ok"], function () { return this._assert(!!this._obj, "expected #{act} to be truthy", "expected #{act} to be falsy", "truthy"); });
__getter(["empty"], function () {
  var o = this._obj, e = o == null || (typeof o === "string" || Array.isArray(o) ? o.length === 0 : typeof o === "object" && Object.keys(o).length === 0);
  return this._assert(e, "expected #{act} to be empty", "expected #{act} not to be empty", "empty");
});

// Flags Chai reads: `nested`, `all`, `any`, `own`, `include`-as-flag for members and keys.
["nested", "all", "any", "own", "ordered"].forEach(function (f) {
  Object.defineProperty(Assertion.prototype, f, { get: function () { this["_" + f] = true; return this; } });
});
function __path(o, path) {
  var parts = String(path).replace(/\[(\w+)\]/g, ".$1").split(".");
  for (var i = 0; i < parts.length; i++) {
    if (o === null || o === undefined || !(typeof o === "object" || typeof o === "string") || !(parts[i] in Object(o))) return { has: false };
    o = o[parts[i]];
  }
  return { has: true, value: o };
}
var __property = Assertion.prototype.property;
__method(["property"], function (name, value) {
  if (!this._nested) return __property.apply(this, arguments);
  var r = __path(this._obj, name);
  if (arguments.length > 1) {
    this._assert(r.has && (this._deep ? __deepEqual(r.value, value) : r.value === value), "expected #{act} to have nested property '" + name + "' of #{exp}", "expected #{act} to not have nested property '" + name + "' of #{exp}", value);
  } else {
    this._assert(r.has, "expected #{act} to have nested property '" + name + "'", "expected #{act} to not have nested property '" + name + "'", name);
  }
  return r.has ? new Assertion(r.value, this._message) : this;
});
__method(["nestedProperty"], function (name, value) { this._nested = true; return Assertion.prototype.property.apply(this, arguments); });
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
// Chai's chainable methods: callable (`.include(x)`, `.an('array')`) and a link of the chain
// (`.include.members(…)`, `.an.instanceof(Date)`). The function returned inherits from the
// assertion, so every method and flag reaches it.
function __chainable(names, fn, flag) {
  names.forEach(function (n) {
    Object.defineProperty(Assertion.prototype, n, { configurable: true, get: function () {
      var self = this;
      if (flag) self[flag] = true;
      var f = function () { return fn.apply(self, arguments); };
      Object.setPrototypeOf(f, self);
      return f;
    } });
  });
}
__chainable(["include", "includes", "contain", "contains"], Assertion.prototype.include, "_contains");
__chainable(["a", "an"], Assertion.prototype.a);
function __lengthChain(self) {
  var len = self._obj == null ? undefined : (self._obj.length !== undefined ? self._obj.length : (self._obj instanceof Map || self._obj instanceof Set ? self._obj.size : undefined));
  var f = function (n) { return self._assert(len === n, "expected #{act} to have a length of " + n + " but got " + len, "expected #{act} to not have a length of " + n, n); };
  var cmp = function (op, word, neg) { return function (n, m) { var ok = op(len, n, m); return self._assert(ok, "expected #{act} to have a length " + word + " " + n + " but got " + len, "expected #{act} to not have a length " + word + " " + n, n); }; };
  f.above = f.gt = f.greaterThan = cmp(function (l, n) { return l > n; }, "above");
  f.below = f.lt = f.lessThan = cmp(function (l, n) { return l < n; }, "below");
  f.least = f.gte = cmp(function (l, n) { return l >= n; }, "at least");
  f.most = f.lte = cmp(function (l, n) { return l <= n; }, "at most");
  f.within = cmp(function (l, n, m) { return l >= n && l <= m; }, "within");
  return f;
}
Object.defineProperty(Assertion.prototype, "length", { get: function () { return __lengthChain(this); } });
Object.defineProperty(Assertion.prototype, "lengthOf", { get: function () { return __lengthChain(this); } });

// A JSON Schema subset (draft 4 to 7 keywords collections use), for `to.have.jsonSchema` and tv4.
function __schemaErrors(v, s, path, out) {
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
    if (s.items && !Array.isArray(s.items)) v.forEach(function (x, i) { __schemaErrors(x, s.items, path + "[" + i + "]", out); });
  }
  if (t === "object") {
    (s.required || []).forEach(function (k) { if (!(k in v)) out.push(path + ": missing required property " + k); });
    var props = s.properties || {};
    for (var k in v) {
      if (props[k] !== undefined) __schemaErrors(v[k], props[k], path + "." + k, out);
      else if (s.additionalProperties === false) out.push(path + ": property " + k + " is not allowed");
      else if (typeof s.additionalProperties === "object") __schemaErrors(v[k], s.additionalProperties, path + "." + k, out);
    }
  }
  if (s.allOf) s.allOf.forEach(function (x) { __schemaErrors(v, x, path, out); });
  if (s.anyOf && !s.anyOf.some(function (x) { return __schemaErrors(v, x, path, []).length === 0; })) out.push(path + ": matches none of anyOf");
  if (s.oneOf && s.oneOf.filter(function (x) { return __schemaErrors(v, x, path, []).length === 0; }).length !== 1) out.push(path + ": does not match exactly one of oneOf");
  if (s.not && __schemaErrors(v, s.not, path, []).length === 0) out.push(path + ": matches a schema it must not");
  return out;
}
var tv4 = {
  error: null, errors: [],
  validate: function (data, schema) { var e = __schemaErrors(data, schema, "data", []); tv4.errors = e; tv4.error = e.length ? { message: e[0] } : null; return e.length === 0; },
  validateResult: function (data, schema) { var ok = tv4.validate(data, schema); return { valid: ok, error: tv4.error, missing: [] }; },
  validateMultiple: function (data, schema) { var ok = tv4.validate(data, schema); return { valid: ok, errors: tv4.errors.map(function (m) { return { message: m }; }), missing: [] }; }
};
__method(["jsonSchema"], function (schema) {
  var e = __schemaErrors(this._obj, schema, "data", []);
  return this._assert(e.length === 0, "expected data to satisfy schema but found following errors: " + e.join(", "), "expected data to not satisfy schema", "valid");
});

var __b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
function btoa(s) {
  s = String(s); var out = "";
  for (var i = 0; i < s.length; i += 3) {
    var a = s.charCodeAt(i), b = s.charCodeAt(i + 1), c = s.charCodeAt(i + 2);
    if (a > 255 || b > 255 || c > 255) throw new Error("btoa: the string has characters outside Latin-1");
    var n = (a << 16) | ((b || 0) << 8) | (c || 0);
    out += __b64[(n >> 18) & 63] + __b64[(n >> 12) & 63] + (i + 1 < s.length ? __b64[(n >> 6) & 63] : "=") + (i + 2 < s.length ? __b64[n & 63] : "=");
  }
  return out;
}
function atob(s) {
  s = String(s).replace(/[\s=]+/g, ""); var out = "", bits = 0, n = 0;
  for (var i = 0; i < s.length; i++) {
    var v = __b64.indexOf(s[i]);
    if (v < 0) throw new Error("atob: not base64");
    n = (n << 6) | v; bits += 6;
    if (bits >= 8) { bits -= 8; out += String.fromCharCode((n >> bits) & 255); }
  }
  return out;
}
var __timers;
function setTimeout(f, ms) { if (typeof f === "function") __timers.push(f); return __timers.length; }
function clearTimeout(id) { if (__timers[id - 1]) __timers[id - 1] = null; }
var setInterval = setTimeout, clearInterval = clearTimeout;
function setImmediate(f) { return setTimeout(f, 0); }

// ---- pm ----------------------------------------------------------------------------------------
// `pm.request.url`: the request's URL, its query as a list a pre-request script may change.
function __url() {
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
}

function __begin() {
  __s = JSON.parse(__input);
  __tests = [];
  __logs = [];
  __next = undefined;
  __nextSet = false;
  __skip = false;
  __timers = [];
  __req = __s.request;
  __reqHeaders = __headerList(__req.headers);
  __res = __s.response;

  function __responseApi() {
    if (!__res) return undefined;
    var headers = __headerList(__res.headers);
    var api = {
      code: __res.code, status: __res.status, responseTime: __res.responseTime, responseSize: __res.body.length,
      headers: headers,
      text: function () { return __res.body; },
      json: function () { return JSON.parse(__res.body); },
      reason: function () { return __res.status; }
    };
    // Each assertion returns the chain, as Chai does: `if (pm.response.to.have.status(200))`
    // is how published collections branch.
    var chain;
    var have = {
      status: function (want) {
        if (typeof want === "number") {
          if (__res.code !== want) throw __AssertionError("expected response to have status code " + want + " but got " + __res.code, String(want), String(__res.code));
        } else if (__res.status !== want) throw __AssertionError("expected response to have status reason '" + want + "' but got '" + __res.status + "'", want, __res.status);
        return chain;
      },
      header: function (k, v) {
        var got = headers.get(k);
        if (got === undefined) throw __AssertionError("expected response to have header " + k, k, "absent");
        if (arguments.length > 1 && got !== v) throw __AssertionError("expected response to have header " + k + " with value " + v + " but got " + got, v, got);
        return chain;
      },
      body: function (v) {
        if (!arguments.length && !__res.body.length) throw __AssertionError("expected response to have content in body", "a body", "empty");
        if (arguments.length && (v instanceof RegExp ? !v.test(__res.body) : __res.body !== v)) throw __AssertionError("expected response body to equal " + __str(v), __str(v), __res.body);
        return chain;
      },
      jsonBody: function (path, value) {
        var j; try { j = JSON.parse(__res.body); } catch (e) { throw __AssertionError("expected response body to be a valid json but got error " + e.message, "JSON", "not JSON"); }
        if (path !== undefined) {
          if (typeof path === "object") { if (!__deepEqual(j, path)) throw __AssertionError("expected response body json to equal " + __str(path), __str(path), __res.body); return chain; }
          var r = __path(j, path);
          if (!r.has) throw __AssertionError("expected " + __str(j) + " to have nested property '" + path + "'", path, "absent");
          if (arguments.length > 1 && !__deepEqual(r.value, value)) throw __AssertionError("expected '" + path + "' to be " + __str(value) + " but got " + __str(r.value), __str(value), __str(r.value));
        }
        return chain;
      },
      jsonSchema: function (schema) {
        var j; try { j = JSON.parse(__res.body); } catch (e) { throw __AssertionError("expected response body to be a valid json", "JSON", "not JSON"); }
        var e = __schemaErrors(j, schema, "data", []);
        if (e.length) throw __AssertionError("expected data to satisfy schema but found following errors: " + e.join(", "), "valid", e[0]);
        return chain;
      },
      responseTime: { below: function (n) { if (!(__res.responseTime < n)) throw __AssertionError("expected response time to be below " + n + " but got " + __res.responseTime, String(n), String(__res.responseTime)); return chain; } }
    };
    var be = {};
    var range = function (lo, hi, word) { return function () { if (__res.code < lo || __res.code > hi) throw __AssertionError("expected response code to be " + word + " but found " + __res.code, word, String(__res.code)); return chain; }; };
    [["ok", 200, 299, "2XX"], ["success", 200, 299, "2XX"], ["info", 100, 199, "1XX"], ["redirection", 300, 399, "3XX"],
     ["clientError", 400, 499, "4XX"], ["serverError", 500, 599, "5XX"], ["error", 400, 599, "4XX or 5XX"]].forEach(function (r) {
      Object.defineProperty(be, r[0], { get: range(r[1], r[2], r[3]) });
    });
    [["accepted", 202], ["badRequest", 400], ["unauthorized", 401], ["forbidden", 403], ["notFound", 404], ["rateLimited", 429]].forEach(function (r) {
      Object.defineProperty(be, r[0], { get: function () { return have.status(r[1]); } });
    });
    Object.defineProperty(be, "json", { get: function () { return have.jsonBody(); } });
    api.to = { have: have, be: be };
    chain = api.to;
    api.to.not = { have: { status: function (want) { if (__res.code === want) throw __AssertionError("expected response to not have status code " + want, "not " + want, String(__res.code)); return chain; } } };
    api.size = function () { var b = __res.body.length, h = 0; headers.each(function (x) { h += x.key.length + String(x.value).length + 4; }); return { body: b, header: h, total: b + h }; };
    return api;
  }

  pm = {
    environment: __scope("environment"),
    globals: __scope("globals"),
    collectionVariables: __scope("collection"),
    iterationData: __scope("data"),
    variables: {
      get: function (k) { return __lookup(k); },
      set: function (k, v) { __s.local[k] = v; },
      unset: function (k) { delete __s.local[k]; },
      has: function (k) { return __lookup(k) !== undefined; },
      replaceIn: function (t) { return __replace(t); },
      toObject: function () { var o = {}; ["globals", "collection", "environment", "data", "local"].forEach(function (s) { for (var k in __s[s]) o[k] = __s[s][k]; }); return o; }
    },
    info: __s.info,
    request: {
      url: __url(),
      method: __req.method,
      headers: __reqHeaders,
      body: __req.body
    },
    response: __responseApi(),
    test: function (name, fn) {
      try {
        if (typeof fn === "function") fn();
        __tests.push({ name: String(name), passed: true });
      } catch (e) {
        __tests.push({ name: String(name), passed: false, error: (e && e.message) || String(e), expected: e && e.__expected, actual: e && e.__actual });
      }
    },
    expect: function (v, message) { return new Assertion(v, message); },
    execution: {
      setNextRequest: function (name) { pm.setNextRequest(name); },
      skipRequest: function () { __skip = true; },
      location: [__s.info.requestName],
      get current() { return __s.info.requestName; }
    },
    setNextRequest: function (name) { __next = name === undefined ? null : name; __nextSet = true; },
    sendRequest: function () { throw new Error("pm.sendRequest is not supported by fhircheck: scripts get no network access"); }
  };
  pm.expect.fail = function (message) { throw __AssertionError(message === undefined ? "expect.fail()" : String(message), "", ""); };
  pm.test.skip = function (name) { __tests.push({ name: String(name), passed: true, skipped: true }); };

  console = {};
  ["log", "info", "warn", "error", "debug"].forEach(function (l) {
    console[l] = function () { __logs.push(Array.prototype.map.call(arguments, __str).join(" ")); };
  });

  // ---- the legacy sandbox -------------------------------------------------------------------------
  tests = {};
  responseBody = __res ? __res.body : undefined;
  responseCode = __res ? { code: __res.code, name: __res.status, detail: __res.status } : undefined;
  responseTime = __res ? __res.responseTime : undefined;
  responseHeaders = __res ? __headerList(__res.headers).toObject() : undefined;
  environment = __s.environment;
  globals = __s.globals;
  data = __s.data;
  request = { url: __req.url, method: __req.method, headers: __reqHeaders.toObject(), data: __req.body, name: __s.info.requestName };
  iteration = __s.info.iteration;
  postman = {
    setEnvironmentVariable: function (k, v) { pm.environment.set(k, v); },
    getEnvironmentVariable: function (k) { return pm.environment.get(k); },
    clearEnvironmentVariable: function (k) { pm.environment.unset(k); },
    clearEnvironmentVariables: function () { pm.environment.clear(); },
    setGlobalVariable: function (k, v) { pm.globals.set(k, v); },
    getGlobalVariable: function (k) { return pm.globals.get(k); },
    clearGlobalVariable: function (k) { pm.globals.unset(k); },
    setNextRequest: function (n) { pm.setNextRequest(n); },
    getResponseHeader: function (k) { return __res ? __headerList(__res.headers).get(k) : undefined; }
  };

}

function require(name) { throw new Error("require('" + name + "') is not available in fhircheck scripts"); }

function __finish() {
  // Timers run after the script, in order, as the sandbox runs them before it ends.
  for (var t = 0; t < __timers.length && t < 1000; t++) {
    if (__timers[t]) { try { __timers[t](); } catch (e) { __logs.push("error in a timer callback: " + ((e && e.message) || e)); } }
  }
  for (var k in tests) {
    if (Object.prototype.hasOwnProperty.call(tests, k)) __tests.push({ name: k, passed: !!tests[k], error: tests[k] ? undefined : "tests[\"" + k + "\"] was " + __str(tests[k]) });
  }
  return JSON.stringify({
    globals: __s.globals, collection: __s.collection, environment: __s.environment, local: __s.local,
    tests: __tests, logs: __logs, next: __next, nextSet: __nextSet,
    headers: __reqHeaders.all(), url: __req.url, skip: __skip
  });
}

// Pristine builtins for every script. What one script does to the builtins or to this API
// (`JSON.stringify = …`, `__finish = …`, a property added to `Object.prototype`, a global left
// behind) must not reach the next script, as in Postman, where each script gets a fresh sandbox.
// The descriptors of every own property of the global object and of the builtins' constructors
// and prototypes are kept here, with the functions the restoring uses, as they are now; Rust
// holds a reference to `__pristine` itself and calls it before each script. Checking every
// builtin before every script would cost more than the script: the functions the harness relies
// on and the number of properties of the most patched objects are checked, and everything is
// restored when any of them changed.
var __pristine = (function () {
  var gOPN = Object.getOwnPropertyNames, gOPD = Object.getOwnPropertyDescriptor;
  var dP = Object.defineProperty, setProto = Object.setPrototypeOf, hasOwn = Object.prototype.hasOwnProperty;
  var apply = Reflect.apply;
  var roots = [Object.prototype, globalThis, Object, Function.prototype, Array, Array.prototype,
    String, String.prototype, Number, Number.prototype, Boolean.prototype, Symbol, Symbol.prototype,
    JSON, Math, Reflect, Date, Date.prototype, RegExp, RegExp.prototype, Error, Error.prototype,
    Promise, Promise.prototype, Map.prototype, Set.prototype, WeakMap.prototype];
  var saved = [];
  for (var i = 0; i < roots.length; i++) {
    var names = gOPN(roots[i]), descs = setProto({}, null);
    for (var j = 0; j < names.length; j++) descs[names[j]] = setProto(gOPD(roots[i], names[j]), null);
    saved[i] = { names: names, descs: descs };
  }
  function same(a, b) {
    return b !== undefined && a.value === b.value && a.get === b.get && a.set === b.set &&
      a.writable === b.writable && a.enumerable === b.enumerable && a.configurable === b.configurable;
  }
  // What the harness itself relies on, and where additions leak most: checked before every
  // script; the full restore runs only when one of them changed.
  var watched = [[JSON, "stringify"], [JSON, "parse"], [Object.prototype, "hasOwnProperty"],
    [Object.prototype, "toString"], [Array.prototype, "push"], [Array.prototype, "map"],
    [Array.prototype, "join"], [Array.prototype, "forEach"], [Function.prototype, "call"],
    [Function.prototype, "apply"], [String.prototype, "indexOf"], [globalThis, "String"],
    [globalThis, "JSON"], [globalThis, "Object"], [globalThis, "Array"], [globalThis, "Error"],
    [globalThis, "__begin"], [globalThis, "__finish"], [globalThis, "__str"], [globalThis, "__scope"],
    [globalThis, "__replace"], [globalThis, "__lookup"], [globalThis, "Assertion"]];
  var watchedValues = [];
  for (var w = 0; w < watched.length; w++) watchedValues[w] = gOPD(watched[w][0], watched[w][1]);
  var counted = [globalThis, Object.prototype, Array.prototype, Function.prototype, String.prototype];
  var counts = [];
  for (var c = 0; c < counted.length; c++) counts[c] = gOPN(counted[c]).length;
  function tampered() {
    for (var w = 0; w < watched.length; w++) {
      var d = gOPD(watched[w][0], watched[w][1]), s = watchedValues[w];
      if (d === undefined || s === undefined) { if (d !== s) return true; continue; }
      if (d.value !== s.value || d.get !== s.get || d.set !== s.set) return true;
    }
    for (var c = 0; c < counted.length; c++) if (gOPN(counted[c]).length !== counts[c]) return true;
    return false;
  }
  return function () {
    if (!tampered()) return;
    for (var i = 0; i < roots.length; i++) {
      var o = roots[i], s = saved[i], now = gOPN(o);
      for (var j = 0; j < now.length; j++) {
        if (!apply(hasOwn, s.descs, [now[j]])) { try { delete o[now[j]]; } catch (e) {} }
      }
      for (var k = 0; k < s.names.length; k++) {
        var name = s.names[k], d = s.descs[name];
        if (!same(d, gOPD(o, name))) { try { dP(o, name, d); } catch (e) {} }
      }
    }
  };
})();
