#!/usr/bin/env node
// Opens a player page in Debian's Chromium (headless, driven by
// playwright-core; no browser download) and waits until the page's <video>
// has played at least --need seconds (currentTime advancing in normal
// playback; jumps to the live edge do not count) or --timeout ms passed.
// Prints one JSON line:
//   {url, source, engine, state, advanced, span, frames, dropped, latency,
//    pdtLatency, errors, warnings, failedRequests, playerLog, elapsedMs}
// "pdtLatency" holds [advanced, seconds] samples (hls.js only): the wall
// clock minus the EXT-X-PROGRAM-DATE-TIME of the frame playing
// (hls.playingDate), taken while the video plays.
// and exits 0 when the video advanced enough, 1 when not, 2 on a harness
// failure (the JSON then has "harnessError").
//
// usage: node play.mjs URL [--need 3] [--timeout 30000] [--screenshot out.png]
//        node play.mjs --embed SCRIPT_URL [--data source=cmaf ...] [...]
// --embed: URL is an /embed_<s>.js script; a host page on another origin
// (http://localhost:<port>/, served by the harness) includes it between two
// paragraphs, with data-* attributes from --data; "embedPlaced" tells
// whether the player box landed where the script tag is.
// "states" lists the player's states (data-weir-state) in the order seen,
// "messages" the texts it showed (e.g. "Stream is offline").
import { chromium } from "playwright-core";
import { createServer } from "node:http";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

function parseArgs(argv) {
	const o = { url: null, need: 3, timeout: 30000, screenshot: null, embed: false, data: {} };
	for (let i = 0; i < argv.length; i++) {
		const a = argv[i];
		if (a === "--need") o.need = Number(argv[++i]);
		else if (a === "--timeout") o.timeout = Number(argv[++i]);
		else if (a === "--screenshot") o.screenshot = argv[++i];
		else if (a === "--embed") o.embed = true;
		else if (a === "--data") {
			const [k, ...v] = argv[++i].split("=");
			o.data[k] = v.join("=");
		}
		else if (!o.url) o.url = a;
		else throw new Error("unexpected argument " + a);
	}
	if (!o.url) throw new Error("usage: play.mjs URL [--need S] [--timeout MS] [--screenshot F]");
	return o;
}

const CHROMIUM_ARGS = [
	"--headless",
	"--no-sandbox",
	"--disable-gpu",
	"--no-first-run",
	"--disable-background-networking",
	"--disable-component-update",
	"--disable-sync",
	"--autoplay-policy=no-user-gesture-required",
	"--mute-audio",
];

// What the page shows about its video and player, sampled in the page.
function sample() {
	const v = document.querySelector("video");
	const box = v && (v.closest(".weir-player") || v);
	const p = box && box.weirPlayer;
	const q = v && v.getVideoPlaybackQuality ? v.getVideoPlaybackQuality() : null;
	let latency = null, pdtLatency = null;
	try {
		latency = p && p.engine && p.engine.latency ? p.engine.latency() : null;
		/* hls.js: wall clock minus the PROGRAM-DATE-TIME of the frame
		 * playing now */
		const d = p && p.engine && p.engine.hls ? p.engine.hls.playingDate : null;
		if (d && Number.isFinite(d.getTime()))
			pdtLatency = (Date.now() - d.getTime()) / 1000;
	} catch (e) { /* not yet */ }
	return {
		t: v ? v.currentTime : null,
		paused: v ? v.paused : null,
		seeking: v ? v.seeking : null,
		readyState: v ? v.readyState : null,
		source: box ? box.dataset.weirSource || null : null,
		engine: box ? box.dataset.weirEngine || null : null,
		state: box ? box.dataset.weirState || null : null,
		frames: q ? q.totalVideoFrames : null,
		dropped: q ? q.droppedVideoFrames : null,
		latency: latency,
		pdtLatency: pdtLatency,
		rate: v ? v.playbackRate : null,
		log: p ? p.log.slice(-40).map((e) => e.level + ": " + e.msg) : [],
		message: (() => {
			const m = box && box.querySelector && box.querySelector(".weir-message");
			return m && !m.hidden ? m.textContent : "";
		})(),
		embedPlaced: (() => {
			const b = document.getElementById("before");
			const n = b && b.nextElementSibling;
			return !!(n && n.classList.contains("weir-embed") && n.contains(v));
		})(),
	};
}

/* The host page for --embed, on its own origin (a port of ours on
 * localhost: Chromium lets loopback pages load from loopback). Resolves
 * {url, close}. */
function serveEmbedPage(html) {
	return new Promise((resolve, reject) => {
		const srv = createServer((req, res) => {
			res.writeHead(req.url === "/" ? 200 : 404, { "Content-Type": "text/html" });
			res.end(req.url === "/" ? html : "");
		});
		srv.on("error", reject);
		srv.listen(0, "127.0.0.1", () => resolve({
			url: "http://localhost:" + srv.address().port + "/",
			close: () => new Promise((r) => srv.close(() => r())),
		}));
	});
}

function escapeAttr(s) {
	return String(s).replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;");
}

function embedPage(scriptUrl, data) {
	const attrs = Object.entries(data)
		.map(([k, v]) => " data-" + escapeAttr(k) + '="' + escapeAttr(v) + '"').join("");
	return "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>embed test</title>" +
		"<link rel=\"icon\" href=\"data:,\"></head><body>" +
		"<p id=\"before\">before</p><script src=\"" + escapeAttr(scriptUrl) + "\"" + attrs +
		"></script><p id=\"after\">after</p></body></html>";
}

async function main() {
	const o = parseArgs(process.argv.slice(2));
	const out = {
		url: o.url, source: null, engine: null, state: null, advanced: 0, span: 0,
		frames: null, dropped: null, latency: null, pdtLatency: [], errors: [], warnings: [],
		failedRequests: [], playerLog: [], states: [], messages: [], elapsedMs: 0,
	};
	const profile = mkdtempSync(join(tmpdir(), "weir-chromium-"));
	const t0 = Date.now();
	let ctx = null, hostPage = null;
	let code = 1;
	try {
		ctx = await chromium.launchPersistentContext(profile, {
			executablePath: process.env.WEIR_CHROMIUM || "/usr/bin/chromium",
			headless: true,
			args: CHROMIUM_ARGS,
			timeout: 20000,
		});
		const page = ctx.pages()[0] || (await ctx.newPage());
		page.on("console", (m) => {
			const text = m.text();
			if (m.type() === "error") out.errors.push("console: " + text);
			else if (m.type() === "warning") out.warnings.push(text);
		});
		page.on("pageerror", (e) => out.errors.push("pageerror: " + (e.stack || e.message)));
		page.on("requestfailed", (r) => {
			const f = r.failure();
			const why = f ? f.errorText : "?";
			// Aborted requests are hls.js/dash.js cancelling on purpose.
			if (!/ERR_ABORTED/.test(why)) out.failedRequests.push(r.url() + " " + why);
		});
		page.on("response", (r) => {
			if (r.status() >= 400) out.failedRequests.push(r.url() + " HTTP " + r.status());
		});
		let target = o.url;
		if (o.embed) {
			hostPage = await serveEmbedPage(embedPage(o.url, o.data));
			target = hostPage.url;
		}
		await page.goto(target, { waitUntil: "domcontentloaded", timeout: 10000 });

		const deadline = t0 + o.timeout;
		let last = null, first = null, s = null;
		while (Date.now() < deadline) {
			s = await page.evaluate(sample);
			if (s.state && s.state !== out.states[out.states.length - 1]) out.states.push(s.state);
			if (s.message && !out.messages.includes(s.message)) out.messages.push(s.message);
			if (s.t !== null && !s.seeking) {
				if (first === null && s.t > 0) first = s.t;
				const d = last === null ? 0 : s.t - last;
				// Normal playback moves about 0.25 s per sample; bigger
				// steps are seeks (live-edge jumps) and do not count.
				if (d > 0 && d < 1.0 && !s.paused) {
					out.advanced += d;
					if (s.pdtLatency !== null)
						out.pdtLatency.push([Math.round(out.advanced * 1000) / 1000,
							Math.round(s.pdtLatency * 1000) / 1000]);
				}
				last = s.t;
			}
			if (out.advanced >= o.need) break;
			await new Promise((r) => setTimeout(r, 250));
		}
		if (s) {
			Object.assign(out, {
				source: s.source, engine: s.engine, state: s.state, frames: s.frames,
				dropped: s.dropped, latency: s.latency, playerLog: s.log,
				paused: s.paused, readyState: s.readyState, embedPlaced: s.embedPlaced,
			});
			out.span = first !== null && last !== null ? last - first : 0;
		}
		if (o.screenshot) await page.screenshot({ path: o.screenshot });
		code = out.advanced >= o.need ? 0 : 1;
	} catch (e) {
		out.harnessError = String(e && e.stack || e);
		code = 2;
	} finally {
		out.advanced = Math.round(out.advanced * 1000) / 1000;
		out.span = Math.round(out.span * 1000) / 1000;
		out.elapsedMs = Date.now() - t0;
		if (ctx) await ctx.close().catch(() => {});
		if (hostPage) await hostPage.close();
		rmSync(profile, { recursive: true, force: true });
	}
	process.stdout.write(JSON.stringify(out) + "\n");
	process.exit(code);
}

main();
