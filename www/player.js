/* weir player: plays a live weir (MistServer-compatible) stream in a <video>.
 *
 *   <script src="http://HOST:8080/player.js"></script>
 *   <div id="p"></div>
 *   <script>weirPlay("live", document.getElementById("p"), {source: "cmaf"});</script>
 *
 * weirPlay(name, element, options) fetches /json_<name>.js, orders its
 * source[] by priority, keeps the sources this browser can play and tries
 * them in turn until one plays:
 *   ws/video/mp4 ........................ MP4 over WebSocket, our own MSE code
 *   html5/application/vnd.apple.mpegurl;version=7   LL-HLS (CMAF) via hls.js
 *   html5/application/vnd.apple.mpegurl  HLS (TS) via hls.js
 *   dash/video/mp4 ...................... DASH via dash.js
 *   (either HLS) ........................ native HLS where there is no MSE (iOS Safari)
 *   html5/video/mp4 ..................... progressive MP4
 * hls.js and dash.js are loaded from <base>dist/ only when chosen. While the
 * stream is offline the player says so and polls every 2 s; a source that
 * fails or stalls makes it start over. See docs/player.md for the options.
 *
 * For tests and pages: element.dataset.weirSource is the chosen source type,
 * weirEngine the engine ("ws-mse", "hls.js", "dash.js", "native"),
 * weirState "loading" | "offline" | "playing" | "error"; the returned
 * controller has .video, .log (recent events) and .destroy(). */
(function (global) {
	"use strict";

	const script = document.currentScript;
	const DEFAULT_BASE = new URL("./", (script && script.src) || location.href).href;

	/* Short names for options.source, and how the overlay calls them. */
	const TYPES = {
		ws: "ws/video/mp4",
		cmaf: "html5/application/vnd.apple.mpegurl;version=7",
		hls: "html5/application/vnd.apple.mpegurl",
		dash: "dash/video/mp4",
		mp4: "html5/video/mp4",
	};
	const LABELS = {
		ws: "MP4 over WebSocket",
		cmaf: "LL-HLS (CMAF)",
		hls: "HLS (TS)",
		dash: "DASH",
		mp4: "MP4",
	};

	const DEFAULTS = {
		autoplay: true,
		muted: true, /* browsers only autoplay muted video */
		controls: true,
		source: "", /* force one: ws | cmaf | hls | dash | mp4 | a full type */
		nativeHls: false, /* prefer the browser's own HLS over hls.js */
		base: DEFAULT_BASE, /* where json_<s>.js, dist/ and weir.css live */
		pollMs: 2000, /* offline: ask again this often */
		startTimeoutMs: 15000, /* a source not playing by then is dropped */
		stallTimeoutMs: 10000, /* playing, then no progress this long: start over */
		maxLatency: 3, /* s behind the live edge before jumping (ws) */
		keepBehind: 30, /* s of buffer kept behind the playhead (ws) */
		overlay: true,
		poster: "",
		hlsConfig: {}, /* merged into the hls.js config */
		dashSettings: {}, /* merged into dash.js settings */
		debug: false,
		onState: null, /* (state, detail) callback */
	};

	const LOG_MAX = 200;

	/* ---------- helpers ---------- */

	function mediaSourceClass() {
		return global.MediaSource || global.ManagedMediaSource || null;
	}

	function mseSupports(mime) {
		const MS = mediaSourceClass();
		try {
			return !!MS && MS.isTypeSupported(mime);
		} catch (e) {
			return false;
		}
	}

	function kindOf(type) {
		for (const k of Object.keys(TYPES))
			if (TYPES[k] === type)
				return k;
		return null;
	}

	const scriptLoads = new Map();

	/* Loads a classic script once; resolves with global[name]. */
	function loadGlobal(url, name) {
		if (global[name])
			return Promise.resolve(global[name]);
		if (!scriptLoads.has(url)) {
			scriptLoads.set(url, new Promise((resolve, reject) => {
				const s = document.createElement("script");
				s.src = url;
				s.async = true;
				s.onload = () => global[name] ? resolve(global[name])
					: reject(new Error(url + " did not define " + name));
				s.onerror = () => {
					scriptLoads.delete(url);
					reject(new Error("cannot load " + url));
				};
				document.head.appendChild(s);
			}));
		}
		return scriptLoads.get(url);
	}

	function sleep(ms) {
		return new Promise((r) => setTimeout(r, ms));
	}

	async function fetchJson(url, timeoutMs) {
		const ctl = new AbortController();
		const t = setTimeout(() => ctl.abort(), timeoutMs);
		try {
			const r = await fetch(url, {cache: "no-store", signal: ctl.signal});
			if (!r.ok)
				throw new Error("HTTP " + r.status);
			return await r.json();
		} finally {
			clearTimeout(t);
		}
	}

	/* Seconds from the playhead to the end of the buffered range holding it. */
	function bufferAhead(video) {
		const b = video.buffered, t = video.currentTime;
		for (let i = 0; i < b.length; i++)
			if (t >= b.start(i) - 0.1 && t <= b.end(i))
				return b.end(i) - t;
		return 0;
	}

	/* ---------- engines: start(), destroy(), latency() ---------- */
	/* An engine reports failures with player.fatal(this, why). */

	class NativeEngine {
		constructor(player, url) {
			this.p = player;
			this.url = url;
			this.name = "native";
		}
		async start() {
			this.p.video.src = this.url;
			this.p.play();
		}
		/* Native HLS only: a progressive file has no live edge to go by. */
		latency() {
			const v = this.p.video, s = v.seekable;
			const l = s.length ? s.end(s.length - 1) - v.currentTime : NaN;
			return this.url.indexOf(".m3u8") > 0 && l >= 0 && Number.isFinite(l) ? l : null;
		}
		destroy() {
			this.p.video.removeAttribute("src");
			this.p.video.load();
		}
	}

	class HlsJsEngine {
		constructor(player, url) {
			this.p = player;
			this.url = url;
			this.name = "hls.js";
			this.bundle = "dist/hls.min.js";
			this.retries = {network: 0, media: 0};
		}
		async start() {
			const Hls = await loadGlobal(this.p.opts.base + this.bundle, "Hls");
			if (this.dead)
				return;
			if (!Hls.isSupported())
				throw new Error("hls.js: no MediaSource support");
			/* The target latency is the playlist's PART-HOLD-BACK (LL-HLS)
			 * or HOLD-BACK. Startup (loading, buffering) leaves the player
			 * further behind than that: it catches up by playing up to
			 * 1.5x faster while it has the buffer to. A stall adds only a
			 * little to the target (hls.js's default is a whole second,
			 * which on a busy machine soon makes low latency high). */
			const hls = this.hls = new Hls(Object.assign({
				lowLatencyMode: true,
				maxLiveSyncPlaybackRate: 1.5,
				liveSyncOnStallIncrease: 0.25,
				backBufferLength: this.p.opts.keepBehind,
				liveDurationInfinity: true,
			}, this.p.opts.hlsConfig));
			hls.on(Hls.Events.ERROR, (ev, d) => this.onError(Hls, d));
			hls.on(Hls.Events.MANIFEST_PARSED, () => this.p.play());
			hls.loadSource(this.url);
			hls.attachMedia(this.p.video);
		}
		onError(Hls, d) {
			const what = "hls.js " + d.type + "/" + d.details +
				(d.fatal ? " (fatal)" : "") +
				(d.error && d.error.message ? ": " + d.error.message : "") +
				(d.response && d.response.code ? " HTTP " + d.response.code : "") +
				(d.frag && d.frag.url ? " " + d.frag.url
					: d.url ? " " + d.url
						: d.context && d.context.url ? " " + d.context.url : "");
			this.p.note(d.fatal ? "error" : "warn", what);
			if (!d.fatal)
				return;
			if (d.type === Hls.ErrorTypes.NETWORK_ERROR && this.retries.network++ < 3) {
				this.hls.startLoad();
			} else if (d.type === Hls.ErrorTypes.MEDIA_ERROR && this.retries.media++ < 2) {
				this.hls.recoverMediaError();
			} else {
				this.p.fatal(this, what);
			}
		}
		latency() {
			return this.hls && Number.isFinite(this.hls.latency) ? this.hls.latency : null;
		}
		destroy() {
			this.dead = true;
			if (this.hls)
				this.hls.destroy();
			this.hls = null;
		}
	}

	class DashJsEngine {
		constructor(player, url) {
			this.p = player;
			this.url = url;
			this.name = "dash.js";
			this.bundle = "dist/dash.all.min.js";
		}
		async start() {
			const dashjs = await loadGlobal(this.p.opts.base + this.bundle, "dashjs");
			if (this.dead)
				return;
			const d = this.dash = dashjs.MediaPlayer().create();
			const settings = {
				debug: {logLevel: dashjs.Debug.LOG_LEVEL_WARNING},
				streaming: {
					buffer: {bufferToKeep: this.p.opts.keepBehind},
					liveCatchup: {enabled: true},
				},
			};
			d.updateSettings(settings);
			d.updateSettings(this.p.opts.dashSettings || {});
			const ev = dashjs.MediaPlayer.events;
			d.on(ev.ERROR, (e) => {
				const err = e.error || {};
				const what = "dash.js error " + (err.code !== undefined ? err.code + " " : "") +
					(err.message || String(e.error || "?"));
				this.p.note("error", what);
				this.p.fatal(this, what);
			});
			d.on(ev.PLAYBACK_ERROR, (e) => {
				const what = "dash.js playback error: " + (e.error && e.error.message ||
					e.error || "?");
				this.p.note("error", what);
				this.p.fatal(this, what);
			});
			d.initialize(this.p.video, this.url, this.p.opts.autoplay);
		}
		latency() {
			try {
				const l = this.dash ? this.dash.getCurrentLiveLatency() : NaN;
				return Number.isFinite(l) ? l : null;
			} catch (e) {
				return null;
			}
		}
		destroy() {
			this.dead = true;
			if (this.dash) {
				try {
					this.dash.destroy ? this.dash.destroy() : this.dash.reset();
				} catch (e) { /* already gone */ }
			}
			this.dash = null;
		}
	}

	/* MP4 over WebSocket (ws/video/mp4, docs/websocket-mp4.md): the server
	 * sends {"type":"codec_data","codecs":[...]} (MistServer: codecs under
	 * "data"), then the init segment and moof+mdat fragments as binary
	 * messages. One SourceBuffer takes every track; appends and removals run
	 * one at a time from a queue. */
	class WsMp4Engine {
		constructor(player, url) {
			this.p = player;
			this.url = url;
			this.name = "ws-mse";
			this.queue = [];
			this.mime = null;
			this.sb = null;
			this.open = false;
			this.bytes = 0;
		}
		start() {
			const MS = mediaSourceClass();
			if (!MS)
				throw new Error("no MediaSource");
			const v = this.p.video;
			this.ms = new MS();
			if (!global.MediaSource)
				v.disableRemotePlayback = true; /* ManagedMediaSource wants it */
			this.objectUrl = URL.createObjectURL(this.ms);
			v.src = this.objectUrl;
			this.ms.addEventListener("sourceopen", () => {
				this.open = true;
				this.pump();
			}, {once: true});
			const ws = this.ws = new WebSocket(this.url);
			ws.binaryType = "arraybuffer";
			ws.onmessage = (ev) => {
				if (typeof ev.data === "string")
					this.onText(ev.data);
				else
					this.onBinary(ev.data);
			};
			ws.onerror = () => this.p.note("warn", "WebSocket error on " + this.url);
			ws.onclose = (ev) => {
				if (!this.dead)
					this.fail("WebSocket closed (" + ev.code +
						(ev.reason ? " " + ev.reason : "") + ")");
			};
			this.tick = setInterval(() => this.keepLive(), 500);
		}
		fail(why) {
			this.p.note("error", "ws: " + why);
			this.p.fatal(this, "ws: " + why);
		}
		send(obj) {
			if (this.ws && this.ws.readyState === 1)
				this.ws.send(JSON.stringify(obj));
		}
		onText(text) {
			let m;
			try {
				m = JSON.parse(text);
			} catch (e) {
				this.p.note("warn", "ws: not JSON: " + text.slice(0, 80));
				return;
			}
			const data = m.data && typeof m.data === "object" ? m.data : {};
			if (m.type === "codec_data") {
				this.setCodecs(m.codecs || data.codecs || []);
			} else if (m.type === "on_stop") {
				this.fail("the stream ended (on_stop)");
			} else if (m.type === "error") {
				/* an answer to a command; media goes on */
				this.p.note("warn", "ws: server says: " +
					(typeof m.data === "string" ? m.data : text.slice(0, 200)));
			} else if (this.p.opts.debug)
				this.p.note("debug", "ws: " + text.slice(0, 200));
		}
		setCodecs(codecs) {
			if (!codecs.length)
				return this.fail("codec_data without codecs");
			const mime = 'video/mp4; codecs="' + codecs.join(",") + '"';
			if (mime === this.mime)
				return;
			if (!mseSupports(mime))
				return this.fail("this browser cannot play " + mime);
			this.p.note("info", "ws: " + mime);
			if (this.sb) /* codecs changed: the next init segment follows */
				this.queue.push({changeType: mime});
			this.mime = mime;
			this.pump();
		}
		onBinary(buf) {
			this.bytes += buf.byteLength;
			if (!this.mime)
				return this.fail("media before codec_data");
			this.queue.push({append: buf});
			this.pump();
		}
		/* Runs the next queued operation when the SourceBuffer is idle. */
		pump() {
			if (!this.open || !this.mime || this.dead || this.ms.readyState !== "open")
				return;
			if (!this.sb) {
				try {
					this.sb = this.ms.addSourceBuffer(this.mime);
				} catch (e) {
					return this.fail("addSourceBuffer(" + this.mime + "): " + e.message);
				}
				this.sb.mode = "segments";
				this.sb.addEventListener("updateend", () => this.afterUpdate());
				this.sb.addEventListener("error", () => this.fail("SourceBuffer error"));
			}
			while (!this.sb.updating && this.queue.length) {
				const op = this.queue.shift();
				try {
					if (op.append)
						this.sb.appendBuffer(op.append);
					else if (op.remove)
						this.sb.remove(op.remove[0], op.remove[1]);
					else if (op.changeType)
						this.sb.changeType(op.changeType);
				} catch (e) {
					if (e.name === "QuotaExceededError" && op.append) {
						this.queue.unshift(op);
						this.trim(true);
						return;
					}
					return this.fail((op.append ? "appendBuffer" : op.remove ? "remove"
						: "changeType") + ": " + e.name + " " + e.message);
				}
			}
		}
		afterUpdate() {
			this.seekIntoBuffer();
			this.trim(false);
			this.pump();
		}
		/* Queues removal of what lies well behind the playhead (hard: all
		 * but 2 s, after a QuotaExceededError). */
		trim(hard) {
			const b = this.sb && this.sb.buffered;
			if (!b || !b.length || this.queue.some((o) => o.remove))
				return;
			const keep = hard ? 2 : this.p.opts.keepBehind;
			const t = this.p.video.currentTime;
			if (t - b.start(0) > keep + (hard ? 0 : 10))
				this.queue.unshift({remove: [0, t - keep]});
		}
		/* A live stream starts wherever its timestamps are: move the
		 * playhead into the buffer, over gaps, and near the live edge. */
		seekIntoBuffer() {
			const v = this.p.video, b = v.buffered;
			if (!b.length)
				return;
			const t = v.currentTime, end = b.end(b.length - 1);
			let inside = false, next = null;
			for (let i = 0; i < b.length; i++) {
				if (t >= b.start(i) && t < b.end(i))
					inside = true;
				else if (next === null && b.start(i) > t)
					next = b.start(i);
			}
			if (!inside && next !== null) {
				v.currentTime = next; /* the start, or over a gap */
			} else if (inside && end - t > this.p.opts.maxLatency) {
				this.p.note("info", "ws: " + (end - t).toFixed(1) +
					" s behind: jumping to the live edge");
				v.currentTime = end - 0.5;
			}
			if (v.paused && this.p.opts.autoplay && !this.p.userPaused)
				this.p.play();
		}
		keepLive() {
			if (this.sb && !this.sb.updating)
				this.seekIntoBuffer();
		}
		latency() {
			const b = this.p.video.buffered;
			return b.length ? b.end(b.length - 1) - this.p.video.currentTime : null;
		}
		destroy() {
			this.dead = true;
			clearInterval(this.tick);
			if (this.ws) {
				this.ws.onclose = this.ws.onmessage = this.ws.onerror = null;
				try {
					this.ws.close();
				} catch (e) { /* closing anyway */ }
			}
			const v = this.p.video;
			v.removeAttribute("src");
			v.load();
			if (this.objectUrl)
				URL.revokeObjectURL(this.objectUrl);
		}
	}

	/* ---------- the player ---------- */

	class Player {
		constructor(name, element, options) {
			this.name = name;
			this.el = element;
			this.opts = Object.assign({}, DEFAULTS, options || {});
			if (!/\/$/.test(this.opts.base))
				this.opts.base += "/";
			this.log = [];
			this.gen = 0;
			this.engine = null;
			this.userPaused = false;
			this.buildDom();
			this.run(this.gen);
		}

		buildDom() {
			const el = this.el;
			if (el.tagName === "VIDEO") {
				this.video = el;
			} else {
				el.classList.add("weir-player");
				this.video = document.createElement("video");
				el.appendChild(this.video);
				if (this.opts.overlay) {
					this.badge = document.createElement("div");
					this.badge.className = "weir-badge";
					el.appendChild(this.badge);
				}
				this.message = document.createElement("div");
				this.message.className = "weir-message";
				el.appendChild(this.message);
			}
			const v = this.video;
			v.playsInline = true;
			v.muted = !!this.opts.muted;
			v.autoplay = !!this.opts.autoplay;
			v.controls = !!this.opts.controls;
			if (this.opts.poster)
				v.poster = this.opts.poster;
			this.onPause = () => {
				if (this.state === "playing" && this.engine && !v.ended)
					this.userPaused = true;
			};
			this.onPlay = () => (this.userPaused = false);
			this.onVideoError = () => {
				const e = v.error;
				if (!e || !this.engine)
					return;
				const what = "video error " + e.code + (e.message ? ": " + e.message : "");
				this.note("error", what);
				this.fatal(this.engine, what);
			};
			/* hls.js and dash.js may throw outside their error events
			 * (a manifest they cannot digest): count that as the
			 * engine failing. */
			this.onGlobalError = (ev) => {
				const e = this.engine;
				const err = ev.reason || ev.error;
				const where = String((err && err.stack) || "") + " " + (ev.filename || "");
				if (!e || !e.bundle || where.indexOf(e.bundle) < 0)
					return;
				const what = e.name + " threw: " + (err && err.message || ev.message || err);
				this.note("error", what);
				this.fatal(e, what);
			};
			global.addEventListener("error", this.onGlobalError);
			global.addEventListener("unhandledrejection", this.onGlobalError);
			v.addEventListener("pause", this.onPause);
			v.addEventListener("play", this.onPlay);
			v.addEventListener("error", this.onVideoError);
			this.badgeTimer = setInterval(() => this.updateBadge(), 1000);
		}

		note(level, msg) {
			this.log.push({t: Date.now(), level: level, msg: msg});
			if (this.log.length > LOG_MAX)
				this.log.shift();
			if (level === "error" || level === "warn")
				console.warn("weir[" + this.name + "]: " + msg);
			else if (this.opts.debug)
				console.debug("weir[" + this.name + "]: " + msg);
		}

		setState(state, detail) {
			this.state = state;
			this.el.dataset.weirState = state;
			if (this.message) {
				this.message.textContent = detail || "";
				this.message.hidden = !detail;
			}
			if (typeof this.opts.onState === "function")
				this.opts.onState(state, detail);
		}

		play() {
			const v = this.video;
			if (!this.opts.autoplay && !this.started)
				return;
			this.userPaused = false;
			const p = v.play();
			if (p && p.catch)
				p.catch((e) => {
					if (e.name === "NotAllowedError" && !v.muted) {
						this.note("info", "autoplay with sound refused: muting");
						v.muted = true;
						v.play().catch(() => {});
					}
				});
		}

		updateBadge() {
			if (!this.badge)
				return;
			const k = this.el.dataset.weirKind;
			if (!this.engine || !k) {
				this.badge.hidden = true;
				return;
			}
			const lat = this.engine.latency ? this.engine.latency() : null;
			this.badge.hidden = false;
			this.badge.textContent = LABELS[k] + " · " + this.engine.name +
				(lat !== null && Number.isFinite(lat) ? " · " + lat.toFixed(1) + " s" : "");
		}

		/* The sources to try, best first: offered, playable here, forced. */
		candidates(info) {
			const want = this.opts.source ? (TYPES[this.opts.source] || this.opts.source) : null;
			const list = (info.source || []).map((s, i) => ({s: s, i: i}))
				.sort((a, b) => (b.s.priority || 0) - (a.s.priority || 0) || a.i - b.i)
				.map((x) => x.s);
			const out = [];
			for (const s of list) {
				const kind = kindOf(s.type);
				if (!kind || (want && s.type !== want))
					continue;
				const engine = this.engineFor(kind);
				if (engine)
					out.push({type: s.type, kind: kind, engine: engine, url: this.urlOf(s, kind)});
			}
			return out;
		}

		engineFor(kind) {
			const v = this.video;
			const mse = !!mediaSourceClass();
			const nativeHls = !!v.canPlayType("application/vnd.apple.mpegurl");
			switch (kind) {
			case "ws":
				return mse && global.WebSocket && mseSupports('video/mp4; codecs="avc1.42E01E"')
					? WsMp4Engine : null;
			case "cmaf":
			case "hls":
				if (nativeHls && (this.opts.nativeHls || !mse))
					return NativeEngine;
				return mse ? HlsJsEngine : null;
			case "dash":
				return mse ? DashJsEngine : null;
			case "mp4":
				return v.canPlayType("video/mp4") ? NativeEngine : null;
			}
			return null;
		}

		/* Source URLs are resolved against the page's view of the server
		 * (relurl), so proxies and other host names keep working. */
		urlOf(s, kind) {
			const rel = s.relurl || s.url;
			if (kind === "ws") {
				const base = new URL(this.opts.base);
				base.protocol = base.protocol === "https:" ? "wss:" : "ws:";
				return new URL(rel, base).href;
			}
			return new URL(rel, this.opts.base).href;
		}

		infoUrl() {
			return this.opts.base + "json_" + encodeURIComponent(this.name) + ".js";
		}

		/* One round: info, then each candidate until one plays. */
		async run(gen) {
			if (this.state !== "offline")
				this.setState("loading", "");
			let info;
			try {
				info = await fetchJson(this.infoUrl(), 5000);
			} catch (e) {
				this.note("warn", "stream info: " + e.message);
				return this.retry(gen, "Stream is offline");
			}
			if (gen !== this.gen)
				return;
			if (info.error)
				return this.retry(gen, "Stream is offline", info.error);
			const cands = this.candidates(info);
			if (!cands.length) {
				const why = this.opts.source ? "Source " + this.opts.source + " is not offered"
					: "No source this browser can play";
				return this.retry(gen, why);
			}
			for (const c of cands) {
				if (gen !== this.gen)
					return;
				if (await this.attempt(c, gen))
					return;
			}
			if (gen === this.gen)
				this.retry(gen, "Cannot play this stream");
		}

		retry(gen, message, detail) {
			if (gen !== this.gen)
				return;
			if (detail && detail !== message)
				this.note("info", detail);
			this.setState("offline", message);
			this.retryTimer = setTimeout(() => {
				if (gen === this.gen)
					this.run(gen);
			}, this.opts.pollMs);
		}

		/* Tries one source; resolves true once the video plays, false when
		 * the source failed or did not start in time. */
		attempt(c, gen) {
			return new Promise((resolve) => {
				const v = this.video;
				const engine = new c.engine(this, c.url);
				this.engine = engine;
				this.el.dataset.weirSource = c.type;
				this.el.dataset.weirKind = c.kind;
				this.el.dataset.weirEngine = engine.name;
				this.note("info", "trying " + c.type + " via " + engine.name + ": " + c.url);
				this.updateBadge();
				let last = null, settled = false;
				const settle = (ok, why) => {
					if (settled)
						return;
					settled = true;
					clearTimeout(timer);
					v.removeEventListener("timeupdate", onTime);
					v.removeEventListener("canplay", onReady);
					engine.settle = null;
					if (!ok) {
						this.note("warn", c.type + " failed: " + why);
						this.dropEngine();
					} else if (gen === this.gen) {
						this.started = true;
						this.setState("playing", "");
						this.watch(gen);
					}
					resolve(ok && gen === this.gen);
				};
				const onTime = () => {
					if (!v.seeking && !v.paused && last !== null && v.currentTime > last)
						settle(true);
					last = v.seeking ? null : v.currentTime;
				};
				/* Without autoplay, ready to play is as far as it goes. */
				const onReady = () => {
					if (!this.opts.autoplay)
						settle(true);
				};
				const timer = setTimeout(() => settle(false, "did not start within " +
					this.opts.startTimeoutMs + " ms"), this.opts.startTimeoutMs);
				engine.settle = settle;
				v.addEventListener("timeupdate", onTime);
				v.addEventListener("canplay", onReady);
				Promise.resolve().then(() => engine.start())
					.catch((e) => settle(false, e.message || String(e)));
			});
		}

		/* An engine gave up: during its attempt that fails the attempt,
		 * afterwards the player starts over. */
		fatal(engine, why) {
			if (engine !== this.engine)
				return;
			if (engine.settle)
				return engine.settle(false, why);
			this.restart(why);
		}

		restart(why) {
			this.note("warn", "restarting: " + why);
			this.gen++;
			this.dropEngine();
			this.setState("loading", "");
			const gen = this.gen;
			this.retryTimer = setTimeout(() => this.run(gen), 1000);
		}

		/* Playing: start over when the playhead stops moving for too long
		 * (the stream went away, the connection died silently). */
		watch(gen) {
			const v = this.video;
			let last = v.currentTime, since = Date.now();
			clearInterval(this.watchTimer);
			this.watchTimer = setInterval(() => {
				if (gen !== this.gen)
					return clearInterval(this.watchTimer);
				if (v.paused) { /* by the user, or no autoplay */
					since = Date.now();
					return;
				}
				if (v.currentTime !== last) {
					last = v.currentTime;
					since = Date.now();
				} else if (Date.now() - since > this.opts.stallTimeoutMs) {
					clearInterval(this.watchTimer);
					this.restart("no progress for " + this.opts.stallTimeoutMs + " ms");
				}
			}, 1000);
		}

		dropEngine() {
			clearInterval(this.watchTimer);
			const e = this.engine;
			this.engine = null;
			if (e) {
				try {
					e.destroy();
				} catch (err) {
					this.note("warn", "destroy: " + err.message);
				}
			}
			this.updateBadge();
		}

		destroy() {
			this.gen++;
			clearTimeout(this.retryTimer);
			clearInterval(this.badgeTimer);
			this.dropEngine();
			const v = this.video;
			global.removeEventListener("error", this.onGlobalError);
			global.removeEventListener("unhandledrejection", this.onGlobalError);
			v.removeEventListener("pause", this.onPause);
			v.removeEventListener("play", this.onPlay);
			v.removeEventListener("error", this.onVideoError);
			if (v !== this.el)
				this.el.replaceChildren();
			this.setState("destroyed", "");
		}
	}

	/* ---------- the public API ---------- */

	function weirPlay(name, element, options) {
		if (!element)
			throw new Error("weirPlay: no element");
		if (element.weirPlayer)
			element.weirPlayer.destroy();
		const p = new Player(String(name), element, options);
		element.weirPlayer = p;
		return p;
	}

	/* Turns strings ("0", "false", "3") into the option's type. */
	function coerce(key, value) {
		const d = DEFAULTS[key];
		if (typeof d === "boolean")
			return !/^(0|false|no|off)$/i.test(value);
		if (typeof d === "number") {
			const n = Number(value);
			return Number.isFinite(n) ? n : d;
		}
		return value;
	}

	/* Options from a query string (?source=dash&muted=0): the known keys
	 * of simple types only. */
	weirPlay.optionsFromQuery = function (search) {
		const q = new URLSearchParams(search || "");
		const o = {};
		for (const [k, v] of q)
			if (k in DEFAULTS && typeof DEFAULTS[k] !== "object" && k !== "base")
				o[k] = coerce(k, v);
		return o;
	};

	/* Options from data-* attributes (data-source="cmaf" data-max-latency="2"). */
	weirPlay.optionsFromDataset = function (ds) {
		const o = {};
		for (const k of Object.keys(ds || {}))
			if (k in DEFAULTS && typeof DEFAULTS[k] !== "object")
				o[k] = coerce(k, ds[k]);
		return o;
	};

	/* Used by /embed_<s>.js: a player in a new box just before `scriptEl`,
	 * with options from the tag's data-* attributes. */
	weirPlay.embed = function (name, scriptEl) {
		const base = new URL("./", scriptEl.src || location.href).href;
		if (!document.querySelector("link[data-weir-css]")) {
			const l = document.createElement("link");
			l.rel = "stylesheet";
			l.href = base + "weir.css";
			l.dataset.weirCss = "";
			document.head.appendChild(l);
		}
		const box = document.createElement("div");
		box.className = "weir-embed";
		scriptEl.parentNode.insertBefore(box, scriptEl);
		const opts = Object.assign({base: base}, weirPlay.optionsFromDataset(scriptEl.dataset));
		return weirPlay(name, box, opts);
	};

	weirPlay.TYPES = TYPES;
	weirPlay.defaults = DEFAULTS;
	global.weirPlay = weirPlay;
})(window);
