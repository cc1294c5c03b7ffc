import pytest

from core.text import fold, words


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Dupont", "dupont"),
        ("  Jean-Pierre   L'Hôte ", "jean pierre l hote"),
        ("ÉLODIE Lefèvre", "elodie lefevre"),
        ("Cœur de Lion", "coeur de lion"),
        ("Straße", "strasse"),
        ("Nguyễn Văn Anh", "nguyen van anh"),
        ("Łukasz Øster", "lukasz oster"),
        ("a%b_c*d?[e]", "a b c d e"),  # LIKE and GLOB wildcards never reach a pattern
        ("Société 7", "societe 7"),
        ("", ""),
        ("-'.", ""),
    ],
)
def test_fold(text, folded):
    assert fold(text) == folded


def test_a_substring_folds_into_the_folded_text():
    text = "Anne-Sophie Lefèvre-Müller, Boulangerie «Straße»"
    for start in range(len(text)):
        for end in range(start + 1, len(text) + 1):
            assert all(word in fold(text) for word in words(text[start:end]))


def test_words_are_folded_and_given_once():
    assert words("Jean jean-PIERRE  l'hôte") == ["jean", "pierre", "l", "hote"]
    assert words(" -- ") == []
