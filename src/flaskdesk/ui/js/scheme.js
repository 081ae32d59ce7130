/*
 * flaskdesk's page script for transport="scheme" (ui/scheme.py: page_script()).
 *
 * The engine injects it at document start into every frame of the window (Qt: QWebEngineScript,
 * WebKitGTK: WebKitUserScript), so it runs before the page's own scripts and outside the page's
 * Content-Security-Policy. It is a function expression; Python appends "(config)" to call it.
 * Each job is switched on only for the engine whose custom-scheme API needs it:
 *
 *   config.restore (Qt WebEngine)  Qt answers every scheme request with HTTP 200 (its
 *                  QWebEngineUrlRequestJob has no status code up to Qt 6.11) and lower-cases the
 *                  values of the headers a handler adds. The real status travels in
 *                  X-Flaskdesk-Status, the app's header values in X-Flaskdesk-Headers (hex, which
 *                  has no case to lose), and fetch()/XMLHttpRequest report both as sent
 *                  (.status/.statusText/.ok, .headers, getResponseHeader()).
 *   config.uploads (both engines)  WebKitGTK: webkit_uri_scheme_request_get_http_body() crashes on
 *                  a body that holds a Blob or File (2.50), and XMLHttpRequest sends such bodies
 *                  empty. Qt WebEngine: requestBody() (6.7-6.11) reads a File picked from disk as
 *                  its bytes followed by zeros up to the size asked for, and a Blob part only whole
 *                  in one read. So, on both:
 *                  fetch(), XMLHttpRequest and sendBeacon bodies that hold one are read into an
 *                  ArrayBuffer first; a multipart form with a file input is serialised here,
 *                  parked at config.stash, and re-submitted as a one-field stand-in form that the
 *                  transport swaps back (app/inprocess.py: UploadStash), so the app sees the
 *                  ordinary multipart POST navigation it expects.
 *
 * Nothing else about the page changes. A Worker's fetch() is not covered (user scripts do not
 * reach workers): send Blob and File bodies from the page, not from a worker.
 */
(function (config) {
  "use strict";

  if (window.__flaskdeskScheme) {
    return;
  }
  Object.defineProperty(window, "__flaskdeskScheme", { value: true });

  var STATUS_HEADER = "x-flaskdesk-status";
  var HEADERS_HEADER = "x-flaskdesk-headers";

  function splitStatus(value) {
    var space = value.indexOf(" ");
    return {
      code: parseInt(space === -1 ? value : value.slice(0, space), 10),
      text: space === -1 ? "" : value.slice(space + 1),
    };
  }

  // What app:// cannot do is said in the console (the devtools, and the test driver's js_errors),
  // never left to fail silently.
  var warned = {};
  var warnOnce = function (key, message) {
    if (!warned[key]) {
      warned[key] = true;
      console.error("flaskdesk: " + message);
    }
  };
  var cookie = Object.getOwnPropertyDescriptor(Document.prototype, "cookie");
  if (cookie && cookie.set) {
    Object.defineProperty(Document.prototype, "cookie", {
      configurable: true,
      enumerable: cookie.enumerable,
      get: cookie.get,
      set: function (value) {
        warnOnce(
          "cookie",
          "document.cookie does not work over app:// (the engine keeps no cookies for it); " +
            "cookies the server sets work, or use localStorage"
        );
        return cookie.set.call(this, value);
      },
    });
  }
  if (window.WebSocket) {
    var NativeWebSocket = window.WebSocket;
    var FlaskdeskWebSocket = function (url, protocols) {
      warnOnce(
        "websocket",
        "WebSockets cannot reach the app over app:// (there is no server socket); " +
          'use transport = "loopback" for an app that needs them'
      );
      return arguments.length > 1 ? new NativeWebSocket(url, protocols) : new NativeWebSocket(url);
    };
    FlaskdeskWebSocket.prototype = NativeWebSocket.prototype;
    ["CONNECTING", "OPEN", "CLOSING", "CLOSED"].forEach(function (name) {
      FlaskdeskWebSocket[name] = NativeWebSocket[name];
    });
    window.WebSocket = FlaskdeskWebSocket;
  }

  if (config.restore) {
    // What the app sent, before Qt lower-cased it: [[name, value], ...] as hex of UTF-8 JSON
    // (hex has no upper case to lose), or null.
    var sentHeaders = function (hex) {
      if (!hex || hex.length % 2) {
        return null;
      }
      try {
        var bytes = new Uint8Array(hex.length / 2);
        for (var i = 0; i < bytes.length; i++) {
          bytes[i] = parseInt(hex.substr(i * 2, 2), 16);
        }
        return JSON.parse(new TextDecoder().decode(bytes));
      } catch (error) {
        return null;
      }
    };

    var restoredHeaders = function (headers) {
      var pairs = sentHeaders(headers.get(HEADERS_HEADER));
      if (!pairs) {
        return headers;
      }
      var fixed = new Headers(headers);
      var seen = {};
      pairs.forEach(function (pair) {
        var key = String(pair[0]).toLowerCase();
        if (!seen[key]) {
          fixed.delete(key);
          seen[key] = true;
        }
        fixed.append(pair[0], pair[1]);
      });
      return fixed;
    };

    var fetchBeforeRestore = window.fetch;
    window.fetch = function () {
      return fetchBeforeRestore.apply(this, arguments).then(restore);
    };

    var restore = function (response) {
      var statusHeader = response.headers.get(STATUS_HEADER);
      var headersHeader = response.headers.get(HEADERS_HEADER);
      if (!statusHeader && !headersHeader) {
        return response;
      }
      var headers = restoredHeaders(response.headers);
      var real = splitStatus(headers.get(STATUS_HEADER) || response.status + " " + response.statusText);
      if (!(real.code >= 200 && real.code <= 599)) {
        return response;
      }
      var nullBody = real.code === 204 || real.code === 205 || real.code === 304;
      var fixed = new Response(nullBody ? null : response.body, {
        status: real.code,
        statusText: real.text,
        headers: headers,
      });
      Object.defineProperties(fixed, {
        url: { value: response.url },
        redirected: { value: response.redirected },
        type: { value: response.type },
      });
      return fixed;
    };

    var xhrProto = XMLHttpRequest.prototype;
    var nativeGetHeader = xhrProto.getResponseHeader;
    var nativeAllHeaders = xhrProto.getAllResponseHeaders;
    var xhrHeaders = function (xhr) {
      var pairs = xhr.readyState >= 2 ? sentHeaders(nativeGetHeader.call(xhr, HEADERS_HEADER)) : null;
      return pairs || null;
    };
    xhrProto.getResponseHeader = function (name) {
      var pairs = xhrHeaders(this);
      if (pairs) {
        var wanted = String(name).toLowerCase();
        var values = pairs
          .filter(function (pair) {
            return String(pair[0]).toLowerCase() === wanted;
          })
          .map(function (pair) {
            return pair[1];
          });
        if (values.length) {
          return values.join(", ");
        }
      }
      return nativeGetHeader.call(this, name);
    };
    xhrProto.getAllResponseHeaders = function () {
      var text = nativeAllHeaders.call(this);
      var pairs = xhrHeaders(this);
      if (!pairs) {
        return text;
      }
      var fixed = {};
      pairs.forEach(function (pair) {
        var key = String(pair[0]).toLowerCase();
        fixed[key] = fixed[key] ? fixed[key] + ", " + pair[1] : String(pair[1]);
      });
      return text
        .split("\r\n")
        .map(function (line) {
          var key = line.slice(0, line.indexOf(":")).toLowerCase();
          return key && fixed[key] !== undefined ? key + ": " + fixed[key] : line;
        })
        .join("\r\n");
    };
    ["status", "statusText"].forEach(function (name) {
      var native = Object.getOwnPropertyDescriptor(xhrProto, name);
      if (!native || !native.get) {
        return;
      }
      Object.defineProperty(xhrProto, name, {
        configurable: true,
        enumerable: native.enumerable,
        get: function () {
          var value = native.get.call(this);
          if (this.readyState >= 2) {
            var header = this.getResponseHeader(STATUS_HEADER);
            if (header) {
              var real = splitStatus(header);
              return name === "status" ? real.code : real.text;
            }
          }
          return value;
        },
      });
    });
  }

  if (config.uploads) {
    var nativeFetch = window.fetch;
    var nativeSubmit = HTMLFormElement.prototype.submit;

    var holdsBlob = function (formData) {
      var found = false;
      formData.forEach(function (value) {
        if (value instanceof Blob) {
          found = true;
        }
      });
      return found;
    };

    // multipart/form-data by hand: WebKit's own encoder (new Response(formData)) cannot read the
    // blobs either ("Unable to read form data blob"), but Blob.arrayBuffer() can.
    var quoted = function (text) {
      return String(text).replace(/\r/g, "%0D").replace(/\n/g, "%0A").replace(/"/g, "%22");
    };
    var encodeMultipart = function (formData) {
      var boundary = "----flaskdeskFormBoundary" + Math.random().toString(36).slice(2) + Date.now().toString(36);
      var utf8 = new TextEncoder();
      var parts = [];
      formData.forEach(function (value, name) {
        var head = "--" + boundary + '\r\nContent-Disposition: form-data; name="' + quoted(name) + '"';
        if (value instanceof Blob) {
          var filename = value instanceof File ? value.name : "blob";
          head += '; filename="' + quoted(filename) + '"\r\nContent-Type: ';
          head += (value.type || "application/octet-stream") + "\r\n\r\n";
          parts.push(Promise.all([utf8.encode(head), value.arrayBuffer(), utf8.encode("\r\n")]));
        } else {
          parts.push(Promise.all([utf8.encode(head + "\r\n\r\n"), utf8.encode(value), utf8.encode("\r\n")]));
        }
      });
      return Promise.all(parts).then(function (pieces) {
        var chunks = [];
        pieces.forEach(function (piece) {
          chunks.push.apply(chunks, piece);
        });
        chunks.push(utf8.encode("--" + boundary + "--\r\n"));
        return new Blob(chunks).arrayBuffer().then(function (buffer) {
          return { body: buffer, type: "multipart/form-data; boundary=" + boundary };
        });
      });
    };

    // A promise of {body: ArrayBuffer, type: string} for a body the engine cannot send, else null.
    var flatten = function (body) {
      if (body instanceof Blob) {
        return body.arrayBuffer().then(function (buffer) {
          return { body: buffer, type: body.type };
        });
      }
      if (body instanceof FormData && holdsBlob(body)) {
        return encodeMultipart(body);
      }
      return null;
    };

    window.fetch = function (input, init) {
      var flat = init && init.body ? flatten(init.body) : null;
      if (flat) {
        return flat.then(function (result) {
          var headers = new Headers(init.headers || (input instanceof Request ? input.headers : undefined));
          if (result.type && !headers.has("content-type")) {
            headers.set("content-type", result.type);
          }
          return nativeFetch.call(window, input, Object.assign({}, init, { body: result.body, headers: headers }));
        });
      }
      if (input instanceof Request && !init && input.method !== "GET" && input.method !== "HEAD") {
        return input
          .clone()
          .arrayBuffer()
          .then(function (buffer) {
            return nativeFetch.call(window, input.url, {
              method: input.method,
              headers: input.headers,
              body: buffer,
              credentials: input.credentials,
              cache: input.cache,
              redirect: input.redirect,
              referrerPolicy: input.referrerPolicy,
              integrity: input.integrity,
              keepalive: input.keepalive,
              signal: input.signal,
            });
          });
      }
      return nativeFetch.apply(this, arguments);
    };

    var proto = XMLHttpRequest.prototype;
    var nativeOpen = proto.open;
    var nativeSend = proto.send;
    var nativeSetHeader = proto.setRequestHeader;
    var state = new WeakMap();
    proto.open = function (method, url, async) {
      state.set(this, { async: arguments.length < 3 || async !== false, typed: false });
      return nativeOpen.apply(this, arguments);
    };
    proto.setRequestHeader = function (name) {
      var mine = state.get(this);
      if (mine && String(name).toLowerCase() === "content-type") {
        mine.typed = true;
      }
      return nativeSetHeader.apply(this, arguments);
    };
    proto.send = function (body) {
      var mine = state.get(this);
      var flat = mine && mine.async ? flatten(body) : null;
      if (!flat) {
        if (mine && !mine.async && flatten(body)) {
          console.warn("flaskdesk: a synchronous XMLHttpRequest cannot send a Blob or File over app://");
        }
        return nativeSend.apply(this, arguments);
      }
      var xhr = this;
      flat.then(
        function (result) {
          if (result.type && !mine.typed) {
            nativeSetHeader.call(xhr, "Content-Type", result.type);
          }
          nativeSend.call(xhr, result.body);
        },
        function () {
          xhr.abort();
        }
      );
    };

    if (navigator.sendBeacon) {
      var nativeBeacon = navigator.sendBeacon;
      navigator.sendBeacon = function (url, data) {
        var flat = flatten(data);
        if (!flat) {
          return nativeBeacon.apply(navigator, arguments);
        }
        flat.then(function (result) {
          nativeFetch.call(window, url, {
            method: "POST",
            body: result.body,
            headers: result.type ? { "Content-Type": result.type } : {},
            keepalive: true,
            credentials: "same-origin",
          });
        });
        return true;
      };
    }

    var multipartWithFiles = function (form, submitter) {
      var method = (submitter && submitter.getAttribute("formmethod")) || form.getAttribute("method") || "get";
      var enctype = (submitter && submitter.getAttribute("formenctype")) || form.getAttribute("enctype") || "";
      if (method.toLowerCase() !== "post" || enctype.toLowerCase() !== "multipart/form-data") {
        return null;
      }
      var data = submitter ? new FormData(form, submitter) : new FormData(form);
      return holdsBlob(data) ? data : null;
    };

    var submitParked = function (form, data, submitter) {
      var action = submitter && submitter.hasAttribute("formaction") ? submitter.formAction : form.action;
      var target = (submitter && submitter.getAttribute("formtarget")) || form.getAttribute("target") || "";
      return encodeMultipart(data)
        .then(function (encoded) {
          var headers = { "Content-Type": "application/octet-stream" };
          headers[config.typeHeader] = encoded.type;
          return nativeFetch.call(window, config.stash, {
            method: "POST",
            headers: headers,
            body: encoded.body,
            credentials: "same-origin",
            cache: "no-store",
          });
        })
        .then(function (response) {
          if (!response.ok) {
            throw new Error("flaskdesk could not park the upload: HTTP " + response.status);
          }
          return response.text();
        })
        .then(function (key) {
          var standIn = document.createElement("form");
          standIn.method = "post";
          standIn.action = action;
          standIn.enctype = "application/x-www-form-urlencoded";
          standIn.style.display = "none";
          if (target) {
            standIn.target = target;
          }
          var field = document.createElement("input");
          field.type = "hidden";
          field.name = config.field;
          field.value = key;
          standIn.appendChild(field);
          (document.body || document.documentElement).appendChild(standIn);
          nativeSubmit.call(standIn);
        });
    };

    // Bubble phase on window: every handler of the page has run, and may have taken the submit over.
    window.addEventListener("submit", function (event) {
      var form = event.target;
      if (event.defaultPrevented || !(form instanceof HTMLFormElement)) {
        return;
      }
      var data = multipartWithFiles(form, event.submitter);
      if (!data) {
        return;
      }
      event.preventDefault();
      submitParked(form, data, event.submitter).catch(function (error) {
        console.error(error);
      });
    });

    HTMLFormElement.prototype.submit = function () {
      var data = multipartWithFiles(this, null);
      if (!data) {
        return nativeSubmit.call(this);
      }
      submitParked(this, data, null).catch(function (error) {
        console.error(error);
      });
    };
  }
});
