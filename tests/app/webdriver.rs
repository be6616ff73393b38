//! The few W3C WebDriver calls the app's tests need, over plain HTTP to
//! `tauri-driver` (which hands them to WebKitWebDriver, which drives the
//! app's real webview). A small blocking client instead of a WebDriver
//! crate: the protocol is JSON over HTTP on localhost, and `ureq` without
//! TLS adds a handful of small crates where fantoccini or thirtyfour would
//! bring hyper, tokio and a TLS stack into the workspace's test build.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use base64::Engine;
use serde_json::{Value, json};

/// The W3C identifier of an element reference in JSON.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// `tauri-driver`, started for one test and stopped with it.
#[derive(Debug)]
pub struct Driver {
    child: Child,
    url: String,
}

impl Driver {
    /// Starts `tauri-driver` on `port`, with `env` added to what the app
    /// inherits, and waits until it answers.
    pub fn start(port: u16, env: &[(&str, &Path)]) -> Result<Self> {
        let mut command = Command::new("tauri-driver");
        command
            .args(["--port", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        for (name, value) in env {
            command.env(name, value);
        }
        let child = command.spawn().context(
            "cannot start tauri-driver: install it with `cargo install tauri-driver --version '^2' --locked`",
        )?;
        let driver = Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while agent()
            .get(&format!("{}/status", driver.url))
            .call()
            .is_err()
        {
            if Instant::now() > deadline {
                bail!("tauri-driver does not answer on port {port}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(driver)
    }

    /// Opens a session: launches the app binary in its window.
    pub fn open(&self, app: &Path) -> Result<Session> {
        let capabilities = json!({
            "capabilities": { "alwaysMatch": {
                "tauri:options": { "application": app }
            }}
        });
        let answer = send(&format!("{}/session", self.url), Some(capabilities)).context(
            "the app did not start under WebDriver (is DISPLAY set? run scripts/e2e.sh)",
        )?;
        let id = answer["sessionId"]
            .as_str()
            .context("no session id in the driver's answer")?;
        Ok(Session {
            base: format!("{}/session/{id}", self.url),
            taps: Default::default(),
        })
    }
}

impl Drop for Driver {
    /// SIGTERM first: tauri-driver then stops the WebKitWebDriver it
    /// started (SIGKILL would leave it holding its port).
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An HTTP client that hands back error answers too: a WebDriver error
/// comes as a 4xx or 5xx status with a JSON body saying what went wrong.
fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into()
}

/// One call: POST with a body, GET without; the answer's `value`, or the
/// driver's error and message.
fn send(url: &str, body: Option<Value>) -> Result<Value> {
    let agent = agent();
    let response = match body {
        Some(body) => agent.post(url).send_json(&body),
        None => agent.get(url).call(),
    };
    let mut response = response.with_context(|| format!("{url}: no answer"))?;
    let answer: Value = response
        .body_mut()
        .read_json()
        .with_context(|| format!("{url}: HTTP {} without JSON", response.status()))?;
    let value = answer["value"].clone();
    if let Some(error) = value.get("error") {
        bail!("{url}: {error}: {}", value["message"]);
    }
    Ok(value)
}

/// The app's window, driven.
#[derive(Debug)]
pub struct Session {
    base: String,
    /// Clicks made, so that a test counts the taps an action takes.
    taps: std::sync::atomic::AtomicUsize,
}

/// An element of the page, found by a CSS selector.
#[derive(Debug, Clone)]
pub struct Element {
    id: String,
    selector: String,
}

/// How long to wait for a screen to show something: creating the demo
/// antenna in a debug build takes several seconds.
pub const PATIENCE: Duration = Duration::from_secs(90);

impl Session {
    fn post(&self, path: &str, body: Value) -> Result<Value> {
        send(&format!("{}/{path}", self.base), Some(body))
    }

    fn get(&self, path: &str) -> Result<Value> {
        send(&format!("{}/{path}", self.base), None)
    }

    fn elements(&self, selector: &str) -> Result<Vec<Element>> {
        let found = self.post(
            "elements",
            json!({ "using": "css selector", "value": selector }),
        )?;
        Ok(found
            .as_array()
            .map(|list| {
                list.iter()
                    .filter_map(|e| e[ELEMENT].as_str())
                    .map(|id| Element {
                        id: id.to_string(),
                        selector: selector.to_string(),
                    })
                    .collect()
            })
            .unwrap_or_default())
    }

    /// Waits until `condition` holds, or fails saying what was awaited.
    pub fn wait_until<T>(
        &self,
        what: &str,
        mut condition: impl FnMut() -> Result<Option<T>>,
    ) -> Result<T> {
        let deadline = Instant::now() + PATIENCE;
        let mut last_error = None;
        loop {
            match condition() {
                Ok(Some(found)) => return Ok(found),
                Ok(None) => {}
                Err(e) => last_error = Some(e),
            }
            if Instant::now() > deadline {
                let why = last_error.map(|e| format!(" (last error: {e:#})"));
                bail!("waited {PATIENCE:?} for {what}{}", why.unwrap_or_default());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The elements matching `selector`, waiting for at least one.
    pub fn find_all(&self, selector: &str) -> Result<Vec<Element>> {
        self.wait_until(&format!("`{selector}` on screen"), || {
            let found = self.elements(selector)?;
            Ok((!found.is_empty()).then_some(found))
        })
    }

    pub fn find(&self, selector: &str) -> Result<Element> {
        Ok(self.find_all(selector)?.remove(0))
    }

    /// How many elements match now (no waiting).
    pub fn count(&self, selector: &str) -> Result<usize> {
        Ok(self.elements(selector)?.len())
    }

    /// The taps (clicks) made so far in this window.
    pub fn taps(&self) -> usize {
        self.taps.load(std::sync::atomic::Ordering::Relaxed)
    }

    pub fn click(&self, selector: &str) -> Result<()> {
        self.taps.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let element = self.find(selector)?;
        self.post(&format!("element/{}/click", element.id), json!({}))
            .with_context(|| format!("click on `{}`", element.selector))?;
        Ok(())
    }

    pub fn type_into(&self, selector: &str, text: &str) -> Result<()> {
        let element = self.find(selector)?;
        self.post(
            &format!("element/{}/value", element.id),
            json!({ "text": text }),
        )
        .with_context(|| format!("typing into `{}`", element.selector))?;
        Ok(())
    }

    /// Empties a text field.
    pub fn clear(&self, element: &Element) -> Result<()> {
        self.post(&format!("element/{}/clear", element.id), json!({}))?;
        Ok(())
    }

    pub fn text_of(&self, element: &Element) -> Result<String> {
        let text = self.get(&format!("element/{}/text", element.id))?;
        Ok(text.as_str().unwrap_or_default().to_string())
    }

    pub fn text(&self, selector: &str) -> Result<String> {
        self.text_of(&self.find(selector)?)
    }

    pub fn attribute(&self, element: &Element, name: &str) -> Result<Option<String>> {
        let value = self.get(&format!("element/{}/attribute/{name}", element.id))?;
        Ok(value.as_str().map(str::to_string))
    }

    /// A property of the element as the page holds it now (a field's
    /// `value`, which its attribute does not follow).
    pub fn property(&self, element: &Element, name: &str) -> Result<Option<String>> {
        let value = self.get(&format!("element/{}/property/{name}", element.id))?;
        Ok(value.as_str().map(str::to_string))
    }

    /// The element's width and height on screen, in CSS pixels.
    pub fn size_of(&self, element: &Element) -> Result<(f64, f64)> {
        let rect = self.get(&format!("element/{}/rect", element.id))?;
        let side = |k: &str| {
            rect[k]
                .as_f64()
                .with_context(|| format!("no {k} in the rect of `{}`: {rect}", element.selector))
        };
        Ok((side("width")?, side("height")?))
    }

    /// Waits until the text of `selector` is `expected`.
    pub fn wait_for_text(&self, selector: &str, expected: &str) -> Result<()> {
        self.wait_until(&format!("`{selector}` to read {expected:?}"), || {
            let found = self.elements(selector)?;
            match found.first() {
                Some(e) if self.text_of(e)?.trim() == expected => Ok(Some(())),
                _ => Ok(None),
            }
        })
    }

    /// Runs `script` in the page (a function body; `arguments` holds
    /// `args`) and answers what it returns.
    pub fn execute(&self, script: &str, args: Value) -> Result<Value> {
        self.post("execute/sync", json!({ "script": script, "args": args }))
    }

    /// Runs `script`, which calls its last argument with the answer (a
    /// promise's result).
    pub fn execute_async(&self, script: &str, args: Value) -> Result<Value> {
        self.post("execute/async", json!({ "script": script, "args": args }))
    }

    /// Waits until the attribute `name` of `selector` reads `expected` (an
    /// icon's accessible name, which WebDriver's text does not give).
    pub fn wait_for_attribute(&self, selector: &str, name: &str, expected: &str) -> Result<()> {
        self.wait_until(
            &format!("`{selector}`'s {name} to read {expected:?}"),
            || {
                let found = self.elements(selector)?;
                match found.first() {
                    Some(e) => {
                        Ok((self.attribute(e, name)?.as_deref() == Some(expected)).then_some(()))
                    }
                    None => Ok(None),
                }
            },
        )
    }

    /// Waits until the text of `selector` contains `part`, and returns it.
    pub fn wait_for_text_containing(&self, selector: &str, part: &str) -> Result<String> {
        self.wait_until(&format!("`{selector}` to contain {part:?}"), || {
            let found = self.elements(selector)?;
            match found.first() {
                Some(e) => {
                    let text = self.text_of(e)?;
                    Ok(text.contains(part).then_some(text))
                }
                None => Ok(None),
            }
        })
    }

    /// Clicks `selector` `times` times.
    pub fn click_times(&self, selector: &str, times: usize) -> Result<()> {
        for _ in 0..times {
            self.click(selector)?;
        }
        Ok(())
    }

    /// Resizes the window's content to a tablet's screen.
    pub fn resize(&self, width: u32, height: u32) -> Result<()> {
        self.post(
            "window/rect",
            json!({ "x": 0, "y": 0, "width": width, "height": height }),
        )?;
        // Let the layout settle before the next screenshot.
        std::thread::sleep(Duration::from_millis(500));
        Ok(())
    }

    /// Saves what the window shows as `dir/name.png`.
    pub fn screenshot(&self, dir: &Path, name: &str) -> Result<()> {
        // Let the last answer's re-render reach the screen.
        std::thread::sleep(Duration::from_millis(300));
        let png = self.get("screenshot")?;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(png.as_str().context("a screenshot as base64")?)?;
        std::fs::create_dir_all(dir)?;
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, bytes).with_context(|| format!("writing {}", path.display()))?;
        eprintln!("screenshot: {}", path.display());
        Ok(())
    }

    /// Closes the window and ends the session.
    pub fn close(self) -> Result<()> {
        agent().delete(&self.base).call()?;
        Ok(())
    }
}
