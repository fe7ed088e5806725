"""The node's config file (``ichlabel_edge.config``): TOML with the data folder, the pinned
public key, the ICHLabel server and the PACS (DICOMweb or DIMSE); anything wrong is named with
the file and key."""

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from ichlabel_edge.config import CALLING_AE, DIMSE_TIMEOUT_S, ConfigError, Dimse, load_config

from modelops.builds.manifest import key_id, public_key_pem


def write(tmp_path, text: str):
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


GOOD = """
data_dir = "/var/lib/ichlabel-edge"
public_key = "keys/build-signing.pem"

[ichlabel]
url = "https://ichlabel.example.org/"
token_file = "~/token"
"""


def test_a_config_is_read_with_paths_from_its_folder(tmp_path, key):
    (tmp_path / "keys").mkdir()
    (tmp_path / "keys" / "build-signing.pem").write_text(public_key_pem(key.public_key()))

    config = load_config(write(tmp_path, GOOD))

    assert config.data_dir.as_posix() == "/var/lib/ichlabel-edge"
    assert config.public_key_file == tmp_path / "keys" / "build-signing.pem"
    assert key_id(config.public_key()) == key_id(key.public_key())
    assert config.server is not None and config.server.url == "https://ichlabel.example.org"
    assert config.server.token_file.is_absolute() and config.server.token_file.name == "token"


def test_the_server_is_optional_for_now(tmp_path):
    config = load_config(write(tmp_path, 'data_dir = "var"\npublic_key = "k.pem"\n'))

    assert config.server is None and config.data_dir == tmp_path / "var"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ('public_key = "k.pem"', "data_dir is missing"),
        ('data_dir = "var"', "public_key is missing"),
        ('data_dir = "var"\npublic_key = 3', "public_key must be a non-empty string"),
        ('data_dir = ""\npublic_key = "k.pem"', "data_dir must be a non-empty string"),
        (
            'data_dir = "var"\npublic_keys = "k.pem"\npublic_key = "k.pem"',
            "unknown key public_keys",
        ),
        ('data_dir = "var"\npublic_key = "k.pem"\nichlabel = "x"', r"\[ichlabel\] must be a table"),
        (
            'data_dir = "var"\npublic_key = "k.pem"\n[ichlabel]\nurl = "ftp://x"\ntoken_file = "t"',
            "ichlabel.url must be an http",
        ),
        (
            'data_dir = "var"\npublic_key = "k.pem"\n[ichlabel]\nurl = "https://x"',
            "ichlabel.token_file is missing",
        ),
        ('data_dir = "var"\npublic_key = "k.pem"\n[ichlabel]\nport = 4242', "unknown key ichla"),
        ("data_dir = var", "not valid TOML"),
    ],
)
def test_a_wrong_config_is_refused_with_the_key(tmp_path, text, reason):
    path = write(tmp_path, text)

    with pytest.raises(ConfigError, match=reason) as error:
        load_config(path)
    assert str(path) in str(error.value)


def test_a_missing_config_file_is_named(tmp_path):
    with pytest.raises(ConfigError, match="config file .*nothing.toml cannot be read"):
        load_config(tmp_path / "nothing.toml")


def test_a_public_key_that_is_missing_or_not_ed25519_is_refused(tmp_path):
    config = load_config(write(tmp_path, 'data_dir = "var"\npublic_key = "k.pem"\n'))
    with pytest.raises(ConfigError, match="public_key .*k.pem cannot be read"):
        config.public_key()
    (tmp_path / "k.pem").write_text("not a key")
    with pytest.raises(ConfigError, match="is not an Ed25519 public key in PEM"):
        config.public_key()
    other = ec.generate_private_key(ec.SECP256R1()).public_key()
    (tmp_path / "k.pem").write_bytes(
        other.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    with pytest.raises(ConfigError, match="not an Ed25519 key"):
        config.public_key()


NODE = 'data_dir = "var"\npublic_key = "k.pem"\n'


def test_the_pacs_is_watched_over_dicomweb_or_over_dimse(tmp_path):
    web = load_config(write(tmp_path, NODE + '[pacs]\ndicomweb_url = "http://pacs/dicom-web/"\n'))
    dimse = load_config(
        write(tmp_path, NODE + '[pacs]\ndimse = { host = "pacs", port = 104, called_ae = "PACS" }')
    )

    assert web.pacs is not None and web.pacs.dicomweb_url == "http://pacs/dicom-web"
    assert web.pacs.dimse is None and web.pacs.stable_s == 60
    assert dimse.pacs is not None and dimse.pacs.dicomweb_url is None
    assert dimse.pacs.dimse == Dimse("pacs", 104, "PACS", CALLING_AE, DIMSE_TIMEOUT_S)
    assert str(dimse.pacs.dimse) == "PACS at pacs:104"


@pytest.mark.parametrize(
    ("pacs", "reason"),
    [
        ("stable_s = 5", "exactly one of dicomweb_url and dimse"),
        (
            'dicomweb_url = "http://pacs"\ndimse = { host = "p", port = 104, called_ae = "A" }',
            "exactly one of dicomweb_url and dimse",
        ),
        ('dimse = "pacs:104"', "pacs.dimse must be a table"),
        ('dimse = { host = "p", port = 104 }', "pacs.dimse.called_ae is missing"),
        ('dimse = { port = 104, called_ae = "A" }', "pacs.dimse.host is missing"),
        ('dimse = { host = "p", port = 0, called_ae = "A" }', "pacs.dimse.port must be a port"),
        ('dimse = { host = "p", port = "104", called_ae = "A" }', "dimse.port must be a port"),
        ('dimse = { host = "p", port = 104, called_ae = "A-NAME-OF-17-CHAR" }', "an AE title"),
        (r'dimse = { host = "p", port = 104, called_ae = "A\\B" }', "an AE title"),
        ('dimse = { host = "p", port = 104, called_ae = "A", timeout_s = 0 }', "more than 0"),
        ('dimse = { host = "p", port = 104, called_ae = "A", aet = "B" }', "unknown key pacs.dim"),
        ('dicomweb_url = "http://pacs"\ndimse_host = "p"', "unknown key pacs.dimse_host"),
    ],
)
def test_a_wrong_pacs_table_is_refused_with_the_key(tmp_path, pacs, reason):
    with pytest.raises(ConfigError, match=reason):
        load_config(write(tmp_path, NODE + "[pacs]\n" + pacs + "\n"))
