//! One chromium session on the console, with the waits a test needs: for
//! an element, and for the page a click or a script leads to.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};

use crate::served::Driver;
use crate::{chromium, ELEMENT_WAIT};

/// The figures of the dashboard the test follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Figures {
    pub hires: u64,
    pub in_work: u64,
}

/// One browser session on the console at `base`.
pub struct Browser {
    pub client: Client,
    base: String,
}

impl Browser {
    pub async fn open(driver: &Driver, base: &str) -> Browser {
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": chromium(),
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu",
                    "--disable-dev-shm-usage", "--lang=zh-CN",
                    format!("--user-data-dir={}", driver.profile.path().display()),
                ],
                "prefs": { "intl.accept_languages": "zh-CN,zh" },
            }),
        );
        // Leave confirm() dialogs open for the test to accept.
        caps.insert("unhandledPromptBehavior".into(), json!("ignore"));
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = ClientBuilder::new(connector)
            .capabilities(caps)
            .connect(&driver.url)
            .await
            .expect("a chromium session through chromedriver");
        *driver.session.lock().unwrap() = client.session_id().await.unwrap();
        client
            .set_window_size(1280, 900)
            .await
            .expect("window size");
        Browser {
            client,
            base: base.to_string(),
        }
    }

    pub async fn go(&self, path: &str) {
        let url = format!("{}{path}", self.base);
        self.client
            .goto(&url)
            .await
            .unwrap_or_else(|e| panic!("{url}: {e}"));
    }

    /// The current page's path.
    pub async fn path(&self) -> String {
        self.client.current_url().await.unwrap().path().to_string()
    }

    pub async fn sign_in(&self, token: &str) {
        self.go("/signin").await;
        self.type_into("input#token", token).await;
        self.click("button#signin-submit").await;
        self.find("header.top").await;
    }

    /// Waits for the element `css`.
    pub async fn find(&self, css: &str) -> fantoccini::elements::Element {
        match self
            .client
            .wait()
            .at_most(ELEMENT_WAIT)
            .for_element(Locator::Css(css))
            .await
        {
            Ok(e) => e,
            Err(e) => panic!("no {css} on {}: {e}", self.where_am_i().await),
        }
    }

    /// The page's heading.
    pub async fn status_heading(&self) -> String {
        self.text("h1").await
    }

    pub async fn where_am_i(&self) -> String {
        let url = self.client.current_url().await.map(|u| u.to_string());
        let text = match self.client.find(Locator::Css("body")).await {
            Ok(body) => body.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        let text: String = text.chars().take(600).collect();
        format!("{url:?}, page text: {text:?}")
    }

    pub async fn exists(&self, css: &str) -> bool {
        !self
            .client
            .find_all(Locator::Css(css))
            .await
            .unwrap()
            .is_empty()
    }

    pub async fn text(&self, css: &str) -> String {
        self.find(css).await.text().await.unwrap()
    }

    pub async fn texts(&self, css: &str) -> Vec<String> {
        let mut out = Vec::new();
        for e in self.client.find_all(Locator::Css(css)).await.unwrap() {
            out.push(e.text().await.unwrap());
        }
        out
    }

    pub async fn attr(&self, css: &str, name: &str) -> Option<String> {
        self.find(css).await.attr(name).await.unwrap()
    }

    /// Clicks `css` (a link or a submit button) and waits for the page it
    /// leads to, so that nothing is read from the page before.
    pub async fn click(&self, css: &str) {
        let element = self.find(css).await;
        self.mark().await;
        element
            .click()
            .await
            .unwrap_or_else(|e| panic!("click {css}: {e}"));
        self.loaded().await;
    }

    /// Runs `script`, which leaves the page, and waits for the next one.
    pub async fn navigate_with(&self, script: &str, args: Vec<Value>) {
        self.mark().await;
        self.eval_with(script, args).await;
        self.loaded().await;
    }

    /// Marks the current document, for [`Browser::loaded`].
    pub async fn mark(&self) {
        self.eval("window.jbLeft = true;").await;
    }

    /// Waits until a document without the mark has loaded.
    pub async fn loaded(&self) {
        let deadline = Instant::now() + ELEMENT_WAIT;
        loop {
            let fresh = self
                .client
                .execute(
                    "return document.readyState === 'complete' && !window.jbLeft;",
                    Vec::new(),
                )
                .await;
            // An error is a page in between (or a dialog still open).
            if let Ok(Value::Bool(true)) = fresh {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "no new page after {ELEMENT_WAIT:?}: {}",
                self.where_am_i().await
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    pub async fn type_into(&self, css: &str, text: &str) {
        self.find(css).await.send_keys(text).await.unwrap();
    }

    pub async fn select(&self, css: &str, index: usize) {
        self.find(css).await.select_by_index(index).await.unwrap();
    }

    pub async fn eval(&self, script: &str) -> Value {
        self.eval_with(script, Vec::new()).await
    }

    pub async fn eval_with(&self, script: &str, args: Vec<Value>) -> Value {
        self.client
            .execute(script, args)
            .await
            .unwrap_or_else(|e| panic!("script failed: {e}\n{script}"))
    }

    /// Posts `body` to `path` from the page with fetch (the page's cookies,
    /// its CSRF token appended when `body` ends in `csrf=`), and answers the
    /// final status.
    pub async fn fetch_status(&self, path: &str, body: &str) -> u64 {
        let status = self
            .client
            .execute_async(
                "const [path, body, done] = arguments;
                 let sent = body;
                 if (body.endsWith('csrf=')) {
                     sent += encodeURIComponent(document.querySelector('input[name=csrf]').value);
                 }
                 fetch(path, {method: 'POST', body: sent,
                              headers: {'Content-Type': 'application/x-www-form-urlencoded'}})
                     .then(r => done(r.status), e => done(String(e)));",
                vec![json!(path), json!(body)],
            )
            .await
            .expect("fetch");
        status
            .as_u64()
            .unwrap_or_else(|| panic!("fetch {path}: {status}"))
    }

    /// The recommendation at the top of a worker's page.
    pub async fn first_recommendation(&self) -> String {
        self.attr("table#recommendations > tbody > tr", "data-opening")
            .await
            .expect("a recommendation")
    }

    /// Accepts the confirm() the apply button opens.
    pub async fn accept_confirm(&self) {
        let deadline = Instant::now() + ELEMENT_WAIT;
        loop {
            match self.client.accept_alert().await {
                Ok(()) => return,
                Err(e) if Instant::now() > deadline => panic!("no confirm dialog: {e}"),
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    }

    pub async fn figures(&self) -> Figures {
        self.go("/dashboard").await;
        let number = |s: String| {
            s.trim()
                .parse::<u64>()
                .unwrap_or_else(|_| panic!("not a number: {s:?}"))
        };
        Figures {
            hires: number(self.text("#figures #hires .value").await),
            in_work: number(self.text("#figures #in-work .value").await),
        }
    }

    /// Opens each of `pages` (a path, and the screenshot's name) in a
    /// phone-sized window and checks that the page itself does not scroll
    /// sideways (wide tables scroll inside `main`), then restores the
    /// desktop size.
    pub async fn fits_a_phone(&self, pages: &[(&str, &str)]) {
        self.client
            .set_window_size(390, 844)
            .await
            .expect("window size");
        for (path, name) in pages {
            self.go(path).await;
            self.find("header.top").await;
            let widths = self
                .eval(
                    "return [document.documentElement.scrollWidth,
                             document.documentElement.clientWidth];",
                )
                .await;
            let (page, window) = (widths[0].as_u64().unwrap(), widths[1].as_u64().unwrap());
            assert!(
                page <= window,
                "{path} is {page} px wide in a {window} px window"
            );
            self.shot(name).await;
        }
        self.client
            .set_window_size(1280, 900)
            .await
            .expect("window size");
    }

    /// Saves a screenshot to docs/console/`name`.png when
    /// JOBBRIDGE_SCREENSHOTS=1.
    pub async fn shot(&self, name: &str) {
        if std::env::var("JOBBRIDGE_SCREENSHOTS").as_deref() != Ok("1") {
            return;
        }
        let png = self.client.screenshot().await.expect("screenshot");
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/console");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
    }

    /// Goes back to `path` and saves it as `name` (a page whose refusal
    /// was just shown).
    pub async fn shot_named_later(&self, name: &str, path: &str) {
        if std::env::var("JOBBRIDGE_SCREENSHOTS").as_deref() == Ok("1") {
            self.go(path).await;
            self.shot(name).await;
        }
    }

    pub async fn close(self, driver: &Driver) {
        if self.client.close().await.is_ok() {
            driver.session.lock().unwrap().take();
        }
    }
}
