// The Postman sandbox API for fhircheck. Evaluated once per run; `__begin()` then sets up one
// script's state from `__input` (JSON text: the variable scopes, the request, the response, run
// info), and `__finish()` returns what the script changed, as JSON.
// Scripts get no file system and no network: none is provided here.
var __input, __s, __tests, __logs, __next, __nextSet, __req, __reqHeaders, __res, __skip, __bodySet;
var pm, console, tests, responseBody, responseCode, responseTime, __responseHeaders;
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
    t = t.replace(/\{\{\s*([^{}]+?)\s*\}\}/g, function (m, k) {
      var v = __lookup(k);
      if (v === undefined && k.charAt(0) === "$") v = __dynamicNative(k);
      return v === undefined || v === null ? m : String(v);
    });
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
__method(["status"], function (code) { return pm.response.to.have.status(code); });
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
// Less common Chai methods, JSON Schema, tv4 and base64 live in extras.js, compiled the first
// time a script uses one of them: start-up stays small. Their stubs load it, and it replaces them.
var __lib = { loaded: false };
function __loadExtras() {
  if (!__lib.loaded) { __lib.loaded = true; (0, eval)(__extrasSource); }
}
var __property = Assertion.prototype.property;
__method(["property"], function () {
  if (!this._nested) return __property.apply(this, arguments);
  __loadExtras();
  return __lib.nestedProperty.apply(this, arguments);
});
["nestedProperty", "members", "keys", "key", "closeTo", "approximately", "satisfy", "satisfies", "string",
 "instanceOf", "instanceof", "throw", "throws", "Throw", "jsonSchema"].forEach(function (n) {
  Assertion.prototype[n] = function () { __loadExtras(); return Assertion.prototype[n].apply(this, arguments); };
});
["tv4", "_", "CryptoJS", "xml2Json", "cheerio"].forEach(function (name) {
  var key = name === "_" ? "lodash" : name;
  Object.defineProperty(globalThis, name, { configurable: true, enumerable: false, get: function () { __loadExtras(); return __lib[key]; } });
});
function btoa(s) { __loadExtras(); return __lib.btoa(s); }
function atob(s) { __loadExtras(); return __lib.atob(s); }
// The legacy `responseHeaders`, made on first read. HTTP/2 and the client write header names in
// lower case; scripts written against a server that sent `Content-Type` still find it: look-ups
// ignore case, as the header list's do.
Object.defineProperty(globalThis, "responseHeaders", { configurable: true, enumerable: false,
  get: function () {
    if (__responseHeaders === undefined && __res) { __loadExtras(); __responseHeaders = __lib.caseBlind(__headerList(__res.headers).toObject()); }
    return __responseHeaders;
  },
  set: function (v) { __responseHeaders = v; } });


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

var __timers;
function setTimeout(f, ms) { if (typeof f === "function") __timers.push(f); return __timers.length; }
function clearTimeout(id) { if (__timers[id - 1]) __timers[id - 1] = null; }
var setInterval = setTimeout, clearInterval = clearTimeout;
function setImmediate(f) { return setTimeout(f, 0); }

// ---- pm ----------------------------------------------------------------------------------------
// pm.response.to.have.* and to.be.*: each returns the chain, as Chai does, so
// `if (pm.response.to.have.status(200))` is how published collections branch. `this` is the
// script's `have` or `be`, which carries `_res`, `_headers` and `_chain`.
var __HaveProto = {
  status: function (want) {
    var r = this._res;
    if (typeof want === "number") {
      if (r.code !== want) throw __AssertionError("expected response to have status code " + want + " but got " + r.code, String(want), String(r.code));
    } else if (r.status !== want) throw __AssertionError("expected response to have status reason '" + want + "' but got '" + r.status + "'", want, r.status);
    return this._chain;
  },
  header: function (k, v) {
    var got = this._headers.get(k);
    if (got === undefined) throw __AssertionError("expected response to have header " + k, k, "absent");
    if (arguments.length > 1 && got !== v) throw __AssertionError("expected response to have header " + k + " with value " + v + " but got " + got, v, got);
    return this._chain;
  },
  // The rarer ones are compiled on first use (extras.js).
  body: function () { __loadExtras(); return __lib.have.body.call({ res: this._res, chain: this._chain }, arguments); },
  jsonBody: function () { __loadExtras(); return __lib.have.jsonBody.call({ res: this._res, chain: this._chain }, arguments); },
  jsonSchema: function () { __loadExtras(); return __lib.have.jsonSchema.call({ res: this._res, chain: this._chain }, arguments); }
};
Object.defineProperty(__HaveProto, "responseTime", { get: function () {
  var r = this._res, chain = this._chain;
  return { below: function (n) { if (!(r.responseTime < n)) throw __AssertionError("expected response time to be below " + n + " but got " + r.responseTime, String(n), String(r.responseTime)); return chain; } };
} });
var __BeProto = {};
[["ok", 200, 299, "2XX"], ["success", 200, 299, "2XX"], ["info", 100, 199, "1XX"], ["redirection", 300, 399, "3XX"],
 ["clientError", 400, 499, "4XX"], ["serverError", 500, 599, "5XX"], ["error", 400, 599, "4XX or 5XX"]].forEach(function (x) {
  Object.defineProperty(__BeProto, x[0], { get: function () {
    var c = this._res.code;
    if (c < x[1] || c > x[2]) throw __AssertionError("expected response code to be " + x[3] + " but found " + c, x[3], String(c));
    return this._chain;
  } });
});
[["accepted", 202], ["badRequest", 400], ["unauthorized", 401], ["forbidden", 403], ["notFound", 404], ["rateLimited", 429]].forEach(function (x) {
  Object.defineProperty(__BeProto, x[0], { get: function () { return this._have.status(x[1]); } });
});
Object.defineProperty(__BeProto, "json", { get: function () { return this._have.jsonBody(); } });

// pm.request.url: getters shared by every script's URL object; the query list and the rest are
// compiled on first use (extras.js).
var __UrlProto = {};
["query", "toString", "getHost", "getPath", "getQueryString", "getPathWithQuery"].forEach(function (k) {
  Object.defineProperty(__UrlProto, k, { get: function () { __loadExtras(); return __lib.url(__req)[k]; } });
});

function __begin() {
  __s = JSON.parse(__input);
  __tests = [];
  __logs = [];
  __next = undefined;
  __nextSet = false;
  __skip = false;
  __bodySet = false;
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
      reason: function () { return __res.status; },
      size: function () { var b = __res.body.length, h = 0; headers.each(function (x) { h += x.key.length + String(x.value).length + 4; }); return { body: b, header: h, total: b + h }; }
    };
    // The assertion objects share prototypes built once (see __HaveProto): a script pays for
    // three small objects, not for a closure per assertion.
    var to = {};
    var have = Object.create(__HaveProto), be = Object.create(__BeProto);
    have._res = be._res = __res;
    have._headers = headers;
    have._chain = be._chain = to;
    be._have = have;
    to.have = have;
    to.be = be;
    to.not = { have: { status: function (want) { if (__res.code === want) throw __AssertionError("expected response to not have status code " + want, "not " + want, String(__res.code)); return to; } } };
    api.to = to;
    return api;
  }

  var env = __scope("environment");
  env.name = __s.info.environmentName === null ? undefined : __s.info.environmentName;
  pm = {
    environment: env,
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
      url: Object.create(__UrlProto),
      method: __req.method,
      headers: __reqHeaders,
      // A pre-request script may replace the body: `update('text')` or `update({mode: 'raw', raw})`.
      body: {
        mode: "raw",
        get raw() { return __req.body; },
        toString: function () { return __req.body === null || __req.body === undefined ? "" : String(__req.body); },
        update: function (b) {
          __req.body = typeof b === "string" ? b : (b && b.raw !== undefined ? String(b.raw) : JSON.stringify(b));
          __bodySet = true;
        },
        isEmpty: function () { return !__req.body; }
      }
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
    // Sent after the script's own code, with its callback (or promise) then, as the sandbox's
    // event loop does; through the run's HTTP client, traced with -v.
    sendRequest: function (req, cb) {
      var job = function () {
        var r = JSON.parse(__sendNative(JSON.stringify(__sendSpec(req))));
        return r.error ? [new Error(r.error), undefined] : [null, __sendResponse(r)];
      };
      if (typeof cb === "function") { __timers.push(function () { var x = job(); cb(x[0], x[1]); }); return undefined; }
      return new Promise(function (resolve, reject) { __timers.push(function () { var x = job(); if (x[0]) reject(x[0]); else resolve(x[1]); }); });
    }
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
  __responseHeaders = undefined; // `responseHeaders` is made when a script first reads it
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

// The modules Postman's sandbox lends: `uuid`; the others are not available, and say so.
function require(name) {
  if (name === "uuid") return { v4: function () { return __dynamicNative("$guid"); } };
  if (name === "lodash") { __loadExtras(); return __lib.lodash; }
  if (name === "crypto-js") { __loadExtras(); return __lib.CryptoJS; }
  if (name === "tv4") { __loadExtras(); return __lib.tv4; }
  if (name === "moment") { __loadExtras(); return __lib.moment; }
  if (name === "xml2js") { __loadExtras(); return __lib.xml2js; }
  throw new Error("require('" + name + "') is not available in fhircheck scripts (of the modules Postman's sandbox provides: uuid, lodash, crypto-js, moment, tv4 and xml2js, in part)");
}

// Runs the timers and pm.sendRequest callbacks queued so far, in order; true when it ran any.
// Rust calls it, then runs promise jobs, until nothing is left.
function __flush() {
  var list = __timers;
  if (!list.length) return false;
  __timers = [];
  for (var t = 0; t < list.length && t < 1000; t++) {
    if (list[t]) list[t]();
  }
  return true;
}

// A pm.sendRequest argument (a URL, or a request object in Postman's shape) as what Rust sends.
// As in Postman, `{{variables}}` in it are not replaced: scripts read them with pm.*.get.
function __sendSpec(req) {
  if (typeof req === "string") return { method: "GET", url: req, headers: [] };
  var headers = [], h = req.header || req.headers || [];
  if (Array.isArray(h)) h.forEach(function (x) { if (x && !x.disabled) headers.push([String(x.key), String(x.value)]); });
  else if (typeof h === "object") for (var k in h) headers.push([k, String(h[k])]);
  var body = null, b = req.body;
  if (b && b.mode === "raw") body = String(b.raw);
  else if (b && (b.mode === "urlencoded" || b.mode === "formdata")) {
    var list = b[b.mode] || [];
    body = list.filter(function (x) { return !x.disabled; }).map(function (x) { return encodeURIComponent(x.key) + "=" + encodeURIComponent(String(x.value)); }).join("&");
    if (!headers.some(function (x) { return x[0].toLowerCase() === "content-type"; })) headers.push(["Content-Type", "application/x-www-form-urlencoded"]);
  } else if (typeof b === "string") body = b;
  var url = req.url && typeof req.url === "object" ? (req.url.raw || String(req.url)) : String(req.url);
  return { method: String(req.method || "GET"), url: url, headers: headers, body: body };
}

function __sendResponse(r) {
  var headers = __headerList(r.headers);
  return {
    code: r.code, status: r.status, headers: headers, responseTime: r.responseTime, responseSize: r.body.length,
    text: function () { return r.body; },
    json: function () { return JSON.parse(r.body); },
    reason: function () { return r.status; }
  };
}

function __finish() {
  for (var k in tests) {
    if (Object.prototype.hasOwnProperty.call(tests, k)) __tests.push({ name: k, passed: !!tests[k], error: tests[k] ? undefined : "tests[\"" + k + "\"] was " + __str(tests[k]) });
  }
  return JSON.stringify({
    globals: __s.globals, collection: __s.collection, environment: __s.environment, local: __s.local,
    tests: __tests, logs: __logs, next: __next, nextSet: __nextSet,
    headers: __reqHeaders.all(), url: __req.url, skip: __skip, body: __bodySet ? __req.body : null
  });
}

// Pristine builtins for every script. What one script does to the builtins or to this API
// (`JSON.stringify = …`, `__finish = …`, a property added to `Object.prototype`) must not reach
// the next script, as in Postman, where each script gets a fresh sandbox. Rust holds a reference
// to `__pristine` itself and calls it before each script: a global a script left behind (`x = 1`
// without `var`) is removed here; any other change to what is watched makes it answer true, and
// the next script then gets a new context. Recording every builtin's descriptors to restore them
// would cost more at start-up than a new context costs on the rare script that tampers.
var __pristine = (function () {
  var gOPN = Object.getOwnPropertyNames, gOPD = Object.getOwnPropertyDescriptor;
  var hasOwn = Object.prototype.hasOwnProperty, apply = Reflect.apply;
  var globals = Object.create(null), globalNames = gOPN(globalThis);
  for (var i = 0; i < globalNames.length; i++) globals[globalNames[i]] = true;
  var watched = [[JSON, "stringify"], [JSON, "parse"], [Object.prototype, "hasOwnProperty"],
    [Object.prototype, "toString"], [Array.prototype, "push"], [Array.prototype, "map"],
    [Array.prototype, "join"], [Array.prototype, "forEach"], [Function.prototype, "call"],
    [Function.prototype, "apply"], [String.prototype, "indexOf"], [globalThis, "String"],
    [globalThis, "JSON"], [globalThis, "Object"], [globalThis, "Array"], [globalThis, "Error"],
    [globalThis, "__begin"], [globalThis, "__finish"], [globalThis, "__str"], [globalThis, "__scope"],
    [globalThis, "__replace"], [globalThis, "__lookup"], [globalThis, "Assertion"],
    [globalThis, "__loadExtras"], [globalThis, "__lib"], [Math, "random"], [Math, "max"],
    [Math, "min"], [Date, "now"], [RegExp.prototype, "test"], [RegExp.prototype, "exec"]];
  var watchedValues = [];
  for (var w = 0; w < watched.length; w++) watchedValues[w] = gOPD(watched[w][0], watched[w][1]);
  var counted = [Object.prototype, Array.prototype, Function.prototype, String.prototype];
  var counts = [];
  for (var c = 0; c < counted.length; c++) counts[c] = gOPN(counted[c]).length;
  return function () {
    var now = gOPN(globalThis);
    if (now.length !== globalNames.length) {
      for (var i = 0; i < now.length; i++) {
        if (!apply(hasOwn, globals, [now[i]])) { try { delete globalThis[now[i]]; } catch (e) { return true; } }
      }
      if (gOPN(globalThis).length !== globalNames.length) return true;
    }
    for (var w = 0; w < watched.length; w++) {
      var d = gOPD(watched[w][0], watched[w][1]), s = watchedValues[w];
      if (d === undefined || s === undefined) { if (d !== s) return true; continue; }
      if (d.value !== s.value || d.get !== s.get || d.set !== s.set) return true;
    }
    for (var c = 0; c < counted.length; c++) if (gOPN(counted[c]).length !== counts[c]) return true;
    return false;
  };
})();
