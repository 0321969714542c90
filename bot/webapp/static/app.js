// The key form's script. It posts the credentials to this server only (never Telegram.WebApp.sendData), with
// the signed initData Telegram gave the page; the server decides who the user is from that initData.
// The credential fields are emptied as soon as the server has answered (a pre-check refusal excepted: the
// user corrects the field). Texts come from the page (data-texts), so translations live on the server.
(function () {
  'use strict';

  var page = document.getElementById('page');
  var form = document.getElementById('key-form');
  if (!page || !form) {
    return;
  }
  var texts = JSON.parse(page.getAttribute('data-texts') || '{}');
  var api = page.getAttribute('data-api');
  var exchange = page.getAttribute('data-exchange');
  var exchangeName = page.getAttribute('data-exchange-name');
  var campaign = page.getAttribute('data-campaign') || null;
  var language = document.documentElement.lang || 'en';
  var fields = Array.prototype.slice.call(form.querySelectorAll('[data-credential]'));
  var submitButton = document.getElementById('submit');
  var statusLine = document.getElementById('status');
  var result = document.getElementById('result');
  var closeButton = document.getElementById('close');
  var tg = window.Telegram && window.Telegram.WebApp;
  var main = tg && tg.MainButton;
  var busy = false;
  var finished = false;

  function fill(template, values) {
    return String(template || '').replace(/\{(\w+)\}/g, function (whole, key) {
      return Object.prototype.hasOwnProperty.call(values, key) ? values[key] : whole;
    });
  }

  function setError(id, message) {
    var el = document.getElementById(id);
    if (!el) {
      el = document.getElementById('form-error');
    }
    el.textContent = message || '';
    el.hidden = !message;
  }

  function clearErrors() {
    fields.forEach(function (field) {
      setError(field.id + '-error', '');
    });
    setError('form-error', '');
  }

  function clearFields() {
    fields.forEach(function (field) {
      field.value = '';
    });
  }

  function lockFields(locked) {
    fields.forEach(function (field) {
      field.disabled = locked;
    });
    submitButton.disabled = locked;
  }

  function setBusy(on) {
    busy = on;
    lockFields(on);
    statusLine.hidden = !on;
    statusLine.textContent = on ? fill(texts.checking, {exchange: exchangeName}) : '';
    if (main) {
      if (on) {
        main.showProgress(false);
        main.disable();
      } else {
        main.hideProgress();
        main.enable();
      }
    }
  }

  function close() {
    if (tg && typeof tg.close === 'function') {
      tg.close();
    }
  }

  function finish() {
    // Nothing more can be sent with this form: the initData is used up or refused.
    finished = true;
    clearFields();
    lockFields(true);
    if (main) {
      main.setText(texts.close);
    }
  }

  function showResult(summary) {
    form.hidden = true;
    result.hidden = false;
    result.className = 'result ' + (summary.ok ? 'ok' : 'fail');
    document.getElementById('verdict-title').textContent = summary.title || '';
    // a check that did not run (the hourly limit) has nothing in the chat to point to
    document.getElementById('verdict-note').hidden = summary.checked === false;
    var list = document.getElementById('verdict-details');
    while (list.firstChild) {
      list.removeChild(list.firstChild);
    }
    (summary.details || []).forEach(function (line) {
      var item = document.createElement('li');
      item.textContent = line;
      list.appendChild(item);
    });
  }

  function answered(status, data) {
    setBusy(false);
    if (status === 200 && data && data.ok === true && data.result) {
      finish();
      showResult(data.result);
      return;
    }
    var message = (data && data.message) || texts.err_internal;
    if (data && data.retry) {
      if (data.field && document.getElementById(data.field)) {
        setError(data.field + '-error', message);
        document.getElementById(data.field).focus();
      } else {
        setError('form-error', message);
      }
      return;
    }
    finish();
    setError('form-error', message);
  }

  function submit() {
    if (busy || finished) {
      return;
    }
    clearErrors();
    var credentials = {};
    var missing = null;
    fields.forEach(function (field) {
      credentials[field.id] = field.value;
      if (!missing && !field.value.trim()) {
        missing = field;
      }
    });
    if (missing) {
      setError(missing.id + '-error', fill(texts.missing_field, {label: missing.getAttribute('data-label')}));
      missing.focus();
      return;
    }
    var body = JSON.stringify({
      init_data: tg.initData,
      exchange: exchange,
      campaign: campaign,
      language: language,
      credentials: credentials
    });
    credentials = null;
    setBusy(true);
    fetch(api, {
      method: 'POST',
      headers: {'Content-Type': 'application/json'},
      body: body,
      credentials: 'same-origin',
      cache: 'no-store',
      redirect: 'error',
      referrerPolicy: 'no-referrer'
    }).then(function (response) {
      return response.json().then(function (data) {
        return {status: response.status, data: data};
      }, function () {
        return {status: response.status, data: null};
      });
    }).then(function (answer) {
      answered(answer.status, answer.data);
    }, function () {
      setBusy(false);
      setError('form-error', texts.err_network);
    });
    body = null;
  }

  Array.prototype.forEach.call(document.querySelectorAll('button.reveal'), function (button) {
    button.addEventListener('click', function () {
      var field = document.getElementById(button.getAttribute('data-for'));
      var shown = button.getAttribute('aria-pressed') === 'true';
      if (field.tagName === 'TEXTAREA') {
        field.classList.toggle('masked', shown);
      } else {
        field.type = shown ? 'password' : 'text';
      }
      button.setAttribute('aria-pressed', shown ? 'false' : 'true');
      button.textContent = shown ? texts.show : texts.hide;
    });
  });

  if (!tg || !tg.initData) {
    lockFields(true);
    setError('form-error', texts.open_in_telegram);
    return;
  }

  form.addEventListener('submit', function (event) {
    event.preventDefault();
    submit();
  });
  closeButton.addEventListener('click', close);

  if (typeof tg.ready === 'function') {
    tg.ready();
  }
  if (typeof tg.expand === 'function') {
    tg.expand();
  }
  if (main) {
    // Inside Telegram the main button is the one to press; the page's own button stays for the Enter key.
    submitButton.hidden = true;
    closeButton.hidden = true;
    main.setText(texts.submit);
    main.onClick(function () {
      if (finished) {
        close();
      } else {
        submit();
      }
    });
    main.show();
  }
  document.documentElement.setAttribute('data-ready', 'true');
})();
