// A stand-in for Telegram's telegram-web-app.js, for the offline demo and the browser tests only: our server
// serves it (with a freshly signed initData put in front of this file) only when the demo is on, never in
// production. It provides as much of window.Telegram.WebApp as the key form uses: initData and
// initDataUnsafe, themeParams and colorScheme (with the --tg-theme-* CSS variables the real script sets on the
// root element), ready(), expand(), close() and MainButton. The main button is drawn as a real button at
// the bottom of the page, where Telegram shows its own.
(function () {
  'use strict';

  var boot = window.__tgStandIn || {};
  var themes = {
    light: {
      bg_color: '#ffffff',
      text_color: '#000000',
      hint_color: '#707579',
      link_color: '#3390ec',
      button_color: '#3390ec',
      button_text_color: '#ffffff',
      secondary_bg_color: '#f4f4f5',
      accent_text_color: '#3390ec',
      destructive_text_color: '#e53935'
    },
    dark: {
      bg_color: '#212121',
      text_color: '#ffffff',
      hint_color: '#aaaaaa',
      link_color: '#8774e1',
      button_color: '#8774e1',
      button_text_color: '#ffffff',
      secondary_bg_color: '#181818',
      accent_text_color: '#8774e1',
      destructive_text_color: '#ff595a'
    }
  };
  var dark = !!(window.matchMedia && window.matchMedia('(prefers-color-scheme: dark)').matches);
  var colorScheme = dark ? 'dark' : 'light';
  var themeParams = {};
  var root = document.documentElement;

  function setCss(name, value) {
    root.style.setProperty('--tg-' + name, value);
  }

  Object.keys(themes[colorScheme]).forEach(function (key) {
    themeParams[key] = themes[colorScheme][key];
    setCss('theme-' + key.split('_').join('-'), themeParams[key]);
  });
  setCss('color-scheme', colorScheme);
  root.setAttribute('data-tg-standin', colorScheme);

  function parseInitData(raw) {
    var out = {};
    String(raw || '').split('&').forEach(function (pair) {
      if (!pair) {
        return;
      }
      var cut = pair.indexOf('=');
      var key = decodeURIComponent((cut < 0 ? pair : pair.slice(0, cut)).replace(/\+/g, ' '));
      var value = cut < 0 ? '' : decodeURIComponent(pair.slice(cut + 1).replace(/\+/g, ' '));
      if (value.charAt(0) === '{') {
        try {
          value = JSON.parse(value);
        } catch (e) {
          // keep the text
        }
      }
      out[key] = value;
    });
    return out;
  }

  var handlers = [];
  var state = {text: 'Continue', visible: false, active: true, progress: false};
  var element = null;

  function render() {
    if (!document.body) {
      return;
    }
    if (!element) {
      element = document.createElement('button');
      element.type = 'button';
      element.id = 'tg-main-button';
      var style = element.style;
      style.position = 'fixed';
      style.left = '0';
      style.right = '0';
      style.bottom = '0';
      style.width = '100%';
      style.minHeight = '56px';
      style.border = '0';
      style.borderRadius = '0';
      style.font = '600 16px system-ui, sans-serif';
      style.background = themeParams.button_color;
      style.color = themeParams.button_text_color;
      element.addEventListener('click', function () {
        if (!state.active || state.progress) {
          return;
        }
        handlers.slice().forEach(function (handler) {
          handler();
        });
      });
      document.body.appendChild(element);
    }
    element.textContent = state.progress ? '…' : state.text;
    element.hidden = !state.visible;
    element.disabled = !state.active || state.progress;
    element.setAttribute('aria-busy', state.progress ? 'true' : 'false');
  }

  var MainButton = {
    get text() {
      return state.text;
    },
    get isVisible() {
      return state.visible;
    },
    get isActive() {
      return state.active;
    },
    get isProgressVisible() {
      return state.progress;
    },
    setText: function (text) {
      state.text = String(text);
      render();
      return MainButton;
    },
    onClick: function (handler) {
      if (handlers.indexOf(handler) < 0) {
        handlers.push(handler);
      }
      return MainButton;
    },
    offClick: function (handler) {
      var at = handlers.indexOf(handler);
      if (at >= 0) {
        handlers.splice(at, 1);
      }
      return MainButton;
    },
    show: function () {
      state.visible = true;
      render();
      return MainButton;
    },
    hide: function () {
      state.visible = false;
      render();
      return MainButton;
    },
    enable: function () {
      state.active = true;
      render();
      return MainButton;
    },
    disable: function () {
      state.active = false;
      render();
      return MainButton;
    },
    showProgress: function () {
      state.progress = true;
      render();
      return MainButton;
    },
    hideProgress: function () {
      state.progress = false;
      render();
      return MainButton;
    },
    setParams: function (params) {
      params = params || {};
      if ('text' in params) {
        state.text = String(params.text);
      }
      if ('is_visible' in params) {
        state.visible = !!params.is_visible;
      }
      if ('is_active' in params) {
        state.active = !!params.is_active;
      }
      render();
      return MainButton;
    }
  };

  document.addEventListener('DOMContentLoaded', render);

  var WebApp = {
    initData: boot.initData || '',
    initDataUnsafe: parseInitData(boot.initData),
    version: '8.0',
    platform: 'demo',
    colorScheme: colorScheme,
    themeParams: themeParams,
    isExpanded: false,
    MainButton: MainButton,
    ready: function () {
      root.setAttribute('data-tg-ready', 'true');
    },
    expand: function () {
      WebApp.isExpanded = true;
    },
    close: function () {
      // Telegram would close the Mini App here; in a browser the page says so instead.
      root.setAttribute('data-tg-closed', 'true');
    },
    onEvent: function () {},
    offEvent: function () {}
  };

  window.Telegram = window.Telegram || {};
  window.Telegram.WebApp = WebApp;
})();
