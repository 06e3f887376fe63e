"""``chatops sandbox``: the real bot, a Slack-compatible server and the customers' side, in one browser page.

A newcomer sees chatops work before creating any Slack or Meta app. Everything runs on
loopback in one process:

- the real bot (:class:`chatops.app.ChatOps`) in HTTP mode, SQLite in a data folder,
  the built-in plugins and every installed plugin that is sandbox-capable;
- the Slack-compatible Web API server grown from the test kit's
  :class:`~chatops.testing.fake_slack.FakeSlack`;
- a web page that shows the inbox channel as Slack would and sends every click,
  submission and slash command to the bot as a real signed Slack request, through
  the production code path;
- per source, the customers' side: post as a customer, see the team's reply arrive
  (:mod:`chatops.sandbox.sources`, filled by the ``chatops_sandbox_sources`` hook).

The modules, one job each:

- :mod:`~chatops.sandbox.sources`: what a plugin gives the sandbox (:class:`SandboxSource`);
- :mod:`~chatops.sandbox.blockkit_html`: Block Kit messages and views as HTML, and a
  submitted form back into ``view.state.values``;
- :mod:`~chatops.sandbox.runtime`: starts and stops the fake Slack, the sources' fakes and the bot;
  :mod:`~chatops.sandbox.slack_state` keeps the fake Slack's channels in the data folder and
  :mod:`~chatops.sandbox.people` names the team and the channels;
- :mod:`~chatops.sandbox.page`: the web page's routes, :mod:`~chatops.sandbox.page_html` its HTML
  (with ``static/``: its script and style), :mod:`~chatops.sandbox.slack_bridge` what people do
  on it as signed Slack requests, :mod:`~chatops.sandbox.serving` the page served beside the bot;
- :mod:`~chatops.sandbox.scripted_day`: a day of realistic comments in en, fi and pl;
- :mod:`~chatops.sandbox.command`: the ``chatops sandbox`` command line.
"""
