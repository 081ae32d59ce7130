/*
 * flaskdesk page shim: defines window.flaskdesk.
 *
 *   const total = await flaskdesk.api.add(1, 2);          // calls the Python function exposed as "add"
 *   await flaskdesk.call("save", [doc], {overwrite: true}); // the same, with keyword arguments
 *
 * Calls are same-origin fetch() POSTs to the bridge endpoint next to this script
 * (/__flaskdesk__/bridge). The guard checks Host, the session cookie and the origin before the
 * bridge sees them; the bridge runs only functions the app exposed. A failed call rejects with an
 * Error whose .name and .message are the Python exception's class name and message.
 *
 * The guard injects this file into every HTML page with a CSP nonce; it uses no eval, no inline
 * handlers and no string timers, so it runs under the default Content-Security-Policy.
 *
 * flaskdesk's own features call Python functions registered under the reserved "_flaskdesk." prefix
 * (app names cannot start with "_", so they never collide with flaskdesk.api):
 *
 *   const path = await flaskdesk.dialogs.openFile({fileTypes: [["Text", ["*.txt"]]]}); // null if cancelled
 *   await flaskdesk.dialogs.saveFile({filename: "report.csv"});
 *   await flaskdesk.dialogs.chooseFolder();
 *   if (await flaskdesk.dialogs.confirm("Delete it?")) { ... }
 *   await flaskdesk.dialogs.message("Saved", {kind: "info"});
 *   await flaskdesk.windows.open("/settings", {title: "Settings", width: 500, height: 400});
 *   await flaskdesk.notifications.show("Export done", "3 rows saved", {timeout: 5}); // rejects if none can be shown
 */
(function () {
  "use strict";

  var existing = window.flaskdesk;
  if (existing && existing.api) {
    return; // included twice: keep the first instance
  }

  // Looked up implicitly by `await`, JSON.stringify, String() and class checks: never a bridge call.
  var RESERVED = ["then", "toJSON", "toString", "valueOf", "constructor"];

  function endpoint(name) {
    var script = document.currentScript;
    if (script && script.src) {
      return new URL(name, script.src).href;
    }
    return "/__flaskdesk__/" + name;
  }

  var BRIDGE_URL = endpoint("bridge");

  function bridgeError(name, message, status) {
    var error = new Error(String(message));
    error.name = String(name || "BridgeError");
    if (status !== undefined) {
      error.status = status;
    }
    return error;
  }

  function call(name, args, kwargs) {
    var body;
    try {
      body = JSON.stringify({ name: name, args: args || [], kwargs: kwargs || {} });
    } catch (error) {
      return Promise.reject(bridgeError("TypeError", "arguments cannot be sent as JSON: " + error.message));
    }
    // Default fetch mode ("cors", same-origin URL) on purpose: with Referrer-Policy: no-referrer,
    // a non-"cors" mode would make the browser send `Origin: null`.
    return fetch(BRIDGE_URL, {
      method: "POST",
      credentials: "same-origin",
      cache: "no-store",
      redirect: "error",
      headers: { "Content-Type": "application/json" },
      body: body,
    }).then(function (response) {
      var type = response.headers.get("Content-Type") || "";
      if (type.indexOf("application/json") !== 0) {
        throw bridgeError("BridgeError", "the bridge answered HTTP " + response.status, response.status);
      }
      return response.json().then(function (reply) {
        if (reply && reply.ok === true) {
          return reply.result;
        }
        var error = (reply && reply.error) || {};
        throw bridgeError(error.name, error.message || "the call failed", response.status);
      });
    });
  }

  function namespace(handler) {
    return new Proxy(Object.create(null), {
      get: function (target, property) {
        if (typeof property !== "string" || RESERVED.indexOf(property) !== -1) {
          return undefined;
        }
        return handler(property);
      },
      set: function () {
        return false;
      },
      defineProperty: function () {
        return false;
      },
      deleteProperty: function () {
        return false;
      },
    });
  }

  var flaskdesk = existing || {};
  flaskdesk.call = call;
  flaskdesk.api = namespace(function (name) {
    return function () {
      return call(name, Array.prototype.slice.call(arguments), {});
    };
  });

  var INTERNAL = "_flaskdesk.";

  function options(value) {
    return value && typeof value === "object" ? value : {};
  }

  flaskdesk.dialogs = Object.freeze({
    openFile: function (opts) {
      return call(INTERNAL + "dialogs.openFile", [], options(opts));
    },
    saveFile: function (opts) {
      return call(INTERNAL + "dialogs.saveFile", [], options(opts));
    },
    chooseFolder: function (opts) {
      return call(INTERNAL + "dialogs.chooseFolder", [], options(opts));
    },
    confirm: function (message, opts) {
      return call(INTERNAL + "dialogs.confirm", [String(message)], options(opts));
    },
    message: function (message, opts) {
      return call(INTERNAL + "dialogs.message", [String(message)], options(opts));
    },
  });
  flaskdesk.windows = Object.freeze({
    open: function (path, opts) {
      return call(INTERNAL + "windows.open", [String(path)], options(opts));
    },
  });
  flaskdesk.notifications = Object.freeze({
    show: function (title, body, opts) {
      var text = body === undefined || body === null ? "" : String(body);
      return call(INTERNAL + "notifications.show", [String(title), text], options(opts));
    },
  });
  window.flaskdesk = flaskdesk;
})();
