"""The prediction page (chordscope.page, predict --html, chordscope view), also in a browser."""

import base64
import io
import json
import re
import shutil

import numpy as np
import pytest
import soundfile as sf

from chordscope.cli import main
from chordscope.errors import OutputError, ParameterError
from chordscope.io import Segment
from chordscope.page import MAX_COLUMNS, chroma_picture, disagreements, write_prediction_page

SR = 16000


@pytest.fixture
def song(tmp_path):
    """Six seconds of three chords (additive), with its reference .lab."""
    assert (
        main(["synth", "--sequence", "C:maj A:min G:maj", "--out", str(tmp_path), "--quiet"]) == 0
    )
    return tmp_path / "sequence.wav", tmp_path / "sequence.lab"


def _data(page: str) -> dict:
    return json.loads(re.search(r"const DATA = (\{.*?\});\n", page).group(1).replace("<\\/", "</"))


def test_chroma_folds_octaves_and_pools_time():
    F = np.zeros((73, 9000), np.float32)
    F[4::12, :4500] = 1.0  # every E in the first half
    F[7::12, 4500:] = 2.0  # every G in the second half
    P = chroma_picture(F)
    assert P.shape[0] == 12 and P.shape[1] <= MAX_COLUMNS
    assert P[4, 0] == 1.0 and P[7, 0] == 0.0 and P[7, -1] == 1.0 and P[4, -1] == 0.0
    with pytest.raises(ParameterError):
        chroma_picture(np.zeros((5, 10)))  # no whole octave


def test_disagreements_follow_majmin():
    est = [(0, 1, "C:maj"), (1, 2, "C:min"), (2, 3, "G:7")]
    ref = [(0, 1, "C:maj7"), (1, 2, "C:maj"), (2, 3, "G:maj")]
    assert disagreements(est, ref) == [(1.0, 2.0)]  # maj7 = maj and 7 = maj in majmin
    assert disagreements(ref, ref) == []


def test_a_page_holds_everything_offline(tmp_path, song):
    wav, lab = song
    est = [Segment(0.0, 2.0, "C:maj", 0.9), Segment(2.0, 4.0, "A:min", 0.5),
           Segment(4.0, 6.0, "C:maj", 0.7)]  # fmt: skip
    ref = [Segment(0.0, 2.0, "C:maj"), Segment(2.0, 4.0, "A:min"), Segment(4.0, 6.0, "G:maj")]
    F = np.random.default_rng(0).random((73, 188)).astype(np.float32)
    page = write_prediction_page(
        tmp_path / "p.html", wav, est, features=F, reference=ref, scores={"majmin": 0.667}
    )
    text = page.read_text()
    assert not re.search(r"(src|href)=\"(https?:)?//", text) and "http://" not in text
    data = _data(text)
    assert [s["l"] for s in data["estimate"]] == ["C:maj", "A:min", "C:maj"]
    assert data["estimate"][1]["c"] == 0.5 and data["reference"][2]["l"] == "G:maj"
    assert data["errors"] == [[4.0, 6.0]] and data["duration"] == 6.0
    audio = re.search(r'<audio id="player"[^>]* src="data:audio/wav;base64,([^"]+)"', text)
    assert base64.b64decode(audio.group(1)) == wav.read_bytes()
    png = re.search(r'src="data:image/png;base64,([^"]+)"', text).group(1)
    import matplotlib.image

    assert matplotlib.image.imread(io.BytesIO(base64.b64decode(png))).shape[:2] == (96, 188)
    assert "0.667" in text and "<td>G:maj</td><td>C:maj</td>" in text  # scores, confusion


def test_a_long_recording_gives_a_small_page_that_links_its_audio(tmp_path, song):
    wav, _ = song
    hour = 3600.0
    F = np.random.default_rng(1).random((73, int(hour * SR / 512))).astype(np.float32)
    segs = [Segment(t, t + 2.0, "C:maj" if t % 4 else "A:min", 0.8) for t in np.arange(0, hour, 2)]
    (tmp_path / "pages").mkdir()
    page = write_prediction_page(
        tmp_path / "pages" / "hour.html", wav, segs, features=F, duration=hour, audio_mode="link"
    )
    text = page.read_text()
    assert page.stat().st_size < 1_500_000  # 1800 chords and the picture, no audio
    assert 'src="../sequence.wav"' in text and "Audio linked" in text


def test_bad_page_requests_are_one_line_errors(tmp_path, song):
    wav, _ = song
    with pytest.raises(OutputError):
        write_prediction_page(tmp_path / "p.html", tmp_path / "missing.wav", [(0, 1, "N")])
    with pytest.raises(ParameterError):
        write_prediction_page(tmp_path / "p.html", wav, [(0, 1, "N")], audio_mode="stream")
    with pytest.raises(SystemExit) as exit_:
        main(["predict", str(wav), "--html", "--audio", "stream", "--quiet"])
    assert exit_.value.code == 2
    assert not (tmp_path / "p.html").exists() and not (tmp_path / "sequence.html").exists()


def test_predict_html_and_view_write_pages(tmp_path, song, capsys):
    wav, lab = song
    out = tmp_path / "out"
    assert main(["predict", str(wav), "-o", str(out), "--html"]) == 0
    assert "page" in capsys.readouterr().out
    data = _data((out / "sequence.html").read_text())
    assert data["reference"] is None and len(data["estimate"]) >= 3
    assert all(s["c"] is not None for s in data["estimate"])
    assert (out / "sequence.lab").read_text().count("\n") == len(data["estimate"])
    page = (out / "sequence.html").read_text()
    labelled = re.search(r"<p class=note>Labelled by ([^<]*)</p>", page)
    assert labelled and labelled[1].startswith("chordscope majmin (qualities: majmin-fine), tuning")
    png = tmp_path / "figure.png"
    argv = ["view", str(wav), str(out / "sequence.lab"), "--ref", str(lab), "--png", str(png)]
    assert main([*argv, "--quiet"]) == 0
    import matplotlib.image

    assert matplotlib.image.imread(png).shape[1] >= 1000  # the static figure, 12 inches wide
    text = (out / "sequence.html").read_text()  # view's default: the labels' name
    assert _data(text)["reference"] is not None and "mir_eval metric" in text


# ------------------------------------------------------------------------------------------------
# In a real browser (Debian's chromium + chromium-driver, installed by `make` as root)


def _browser():
    if not (shutil.which("chromium") and shutil.which("chromedriver")):
        pytest.skip("chromium and chromedriver are not installed (make installs them as root)")
    webdriver = pytest.importorskip("selenium.webdriver")
    opts = webdriver.ChromeOptions()
    opts.binary_location = shutil.which("chromium")
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync",
                 "--autoplay-policy=no-user-gesture-required", "--mute-audio"):  # fmt: skip
        opts.add_argument(flag)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = webdriver.ChromeService(executable_path=shutil.which("chromedriver"))
    try:
        return webdriver.Chrome(options=opts, service=service)
    except Exception as exc:  # noqa: BLE001  (no display, a driver that will not start)
        pytest.skip(f"headless chromium did not start: {exc}".splitlines()[0])


def _severe(driver) -> list[str]:
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def test_the_page_plays_follows_and_seeks_in_chromium(tmp_path, song):
    import time

    wav, lab = song
    out = tmp_path / "out"
    assert main(["predict", str(wav), "-o", str(out), "--html", "--quiet"]) == 0
    assert main(["view", str(wav), str(out / "sequence.lab"), "--ref", str(lab), "--quiet"]) == 0
    driver = _browser()
    try:
        driver.get((out / "sequence.html").as_uri())
        js = driver.execute_script
        for _ in range(50):  # the embedded audio decodes
            if js("return document.getElementById('player').readyState") >= 3:
                break
            time.sleep(0.1)
        assert js("return document.querySelectorAll('#estimate .seg').length") >= 3
        assert js("return document.querySelectorAll('#reference .seg').length") == 3
        assert js("return document.getElementById('picture').naturalWidth") > 0
        js("document.getElementById('player').play()")
        time.sleep(1.5)
        assert js("return document.getElementById('player').currentTime") > 0.3
        left = js("return parseFloat(document.getElementById('cursor').style.left)")
        assert left > 0  # the cursor follows playback
        js("document.getElementById('player').pause()")
        segs = driver.find_elements("css selector", "#estimate .seg")
        target = segs[-1]
        start = float(target.get_attribute("data-start"))
        target.click()
        time.sleep(0.3)
        assert abs(js("return document.getElementById('player').currentTime") - start) < 0.05
        assert _severe(driver) == []
    finally:
        driver.quit()


def test_a_run_report_renders_in_chromium(tmp_path):
    out = tmp_path / "run"
    assert main(["run", "--recipe", "seed", "--epochs", "2", "--out", str(out), "--quiet"]) == 0
    driver = _browser()
    try:
        driver.get((out / "report.html").as_uri())
        images = driver.execute_script(
            "return Array.from(document.images).map(i => [i.src.slice(0, 40), i.naturalWidth])"
        )
        assert images and all(width > 0 for _, width in images), images
        assert _severe(driver) == []
    finally:
        driver.quit()


def test_sonify_writes_audio_and_midi_at_the_chords_times(tmp_path, song):
    import pretty_midi

    wav, lab = song
    out = tmp_path / "heard.wav"
    assert main(["sonify", str(lab), "-o", str(out), "--quiet"]) == 0
    y, sr = sf.read(out)
    assert sr == SR and len(y) == 6 * SR  # three 2-second chords
    pm = pretty_midi.PrettyMIDI(str(out.with_suffix(".mid")))
    notes = sorted((n.start, n.pitch) for n in pm.instruments[0].notes)
    assert notes[:3] == [(0.0, 60), (0.0, 64), (0.0, 67)] and (2.0, 69) in notes  # C, then A:min
    spectrum = np.abs(np.fft.rfft(y[SR // 2 : SR + SR // 2]))  # one second inside C:maj
    peak = np.fft.rfftfreq(SR, 1 / SR)[spectrum.argmax()]
    assert min(abs(peak - f) for f in (261.6, 329.6, 392.0)) < 3  # C4, E4 or G4
    assert main(["sonify", str(tmp_path / "none.lab"), "--quiet"]) == 2
