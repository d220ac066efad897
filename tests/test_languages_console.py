"""Languages in the console end to end (issue 16): the real `unblend console` through a pipe."""

from __future__ import annotations

from pathlib import Path

from tests.console_process import ConsoleProcess


def test_a_member_picks_spanish_and_everything_after_is_spanish(tmp_path: Path) -> None:
    console = ConsoleProcess(tmp_path, "console")
    try:
        assert "Unblend, in your terminal" in console.read_until_prompt()
        asked = console.say("/language")
        assert "[2] Español" in asked and "[1] English" in asked
        assert "Listo: desde ahora te hablo en español" in console.say("Español")
        welcome = console.say("/checkin")
        assert "Hola, soy Unblend" in welcome
        console.say("De acuerdo")
        assert "¿Cómo está tu ánimo ahora mismo?" in console.say("Sí, guardarlos")
        assert "¿Qué intensidad tiene" in console.say("3")
        console.say("4")
        console.say("No lo sé")
        console.say("Cansancio")
        assert "Gracias por hacer tu check-in" in console.say("Saltar")
        ground = console.say("/ground")
        assert "Surfear el impulso" in ground and "Pies y manos" in ground
        talk = console.say("/parts talk")
        assert "Son unos 10 minutos" in talk and "Ahora no" in talk
        console.say("Ahora no")
        assert "España" in console.say("/country Spain")
        crisis = console.say("/crisis")
        assert "Personas a las que puedes acudir (España):" in crisis
        assert "024" in crisis and "llama al 112" in crisis
        assert "[1] Por ahora estoy a salvo" in crisis
        code, _ = console.close()
        assert code == 0
    except BaseException:
        console.kill()
        raise


def test_the_console_takes_a_locale_and_a_choice_outlives_it(tmp_path: Path) -> None:
    spanish = ConsoleProcess(tmp_path, "console", "--locale", "es-MX")
    try:
        assert "Unblend, en tu terminal" in spanish.read_until_prompt()
        assert "Hola, soy Unblend" in spanish.say("/start")
        assert "I'll talk with you in English" in spanish.say("/language en")
        code, _ = spanish.close()
        assert code == 0
    except BaseException:
        spanish.kill()
        raise
    # The choice is kept: the next run, with the same --locale, is in English.
    again = ConsoleProcess(tmp_path, "console", "--locale", "es")
    try:
        assert "Unblend, in your terminal" in again.read_until_prompt()
        code, _ = again.close()
        assert code == 0
    except BaseException:
        again.kill()
        raise
