"""A small built-in bank of Japanese (kana) lines with English translations.

Each entry is ``(jp_kana, en_text, subtitle)``: the JP line that espeak-ng's ``ja``
voice speaks (kana only: espeak-ng reads no kanji), the EN dub's line, and the EN
subtitle shown for the JP audio (often a terser or differently worded variant of the
dub line, as in real releases). English lines are deliberately of different length
than their Japanese counterparts.
"""

from __future__ import annotations

PHRASES: tuple[tuple[str, str, str], ...] = (
    ("おはよう", "Good morning, everyone!", "Good morning."),
    ("こんにちは、げんきですか", "Hey, how have you been?", "Hello, how are you?"),
    ("きょうはいいてんきですね", "The weather is lovely today.", "Nice weather today, huh?"),
    ("はやくいこう", "Come on, let's go, we're going to be late!", "Let's hurry."),
    ("まって", "Wait for me!", "Wait!"),
    (
        "ありがとう、ほんとうにたすかった",
        "Thanks, you really saved me back there.",
        "Thank you, that really helped.",
    ),
    ("だいじょうぶ", "Are you okay?", "Are you alright?"),
    ("それはむりだよ", "There's no way that's going to work.", "That's impossible."),
    ("わたしのなまえはさくらです", "My name is Sakura.", "I'm Sakura."),
    ("どこへいくの", "Where do you think you're going?", "Where are you going?"),
    ("しんじられない", "I can't believe it!", "Unbelievable!"),
    ("もういちどやってみよう", "Let's give it one more try.", "Let's try again."),
    ("あぶない、にげて", "Look out! Run!", "Watch out! Run!"),
    ("ごめんなさい、わすれていました", "Sorry, it completely slipped my mind.", "Sorry, I forgot."),
    (
        "あしたのしあいはかならずかつ",
        "We're winning tomorrow's match, no matter what.",
        "We'll win tomorrow.",
    ),
    ("おなかがすいた", "I'm starving.", "I'm hungry."),
    ("なにをしているの", "What are you doing?", "What are you doing?"),
    ("これはわたしたちのひみつだよ", "This stays between us, okay?", "This is our secret."),
    ("せんせいがきた", "The teacher's here!", "Teacher's coming!"),
    ("いっしょにかえろう", "Want to walk home together?", "Let's go home together."),
    ("そんなことはない", "That's not true at all.", "That's not true."),
    ("ちからをかして", "Please, I need your help.", "Lend me your strength."),
    ("やくそくだよ", "You promised, remember?", "It's a promise."),
    ("うそでしょう", "You're kidding me, right?", "No way!"),
    ("まだおわっていない", "This isn't over yet.", "It's not over yet."),
    ("すごい、みて", "Whoa, look at that!", "Amazing, look!"),
    ("きをつけて", "Be careful out there.", "Be careful."),
    ("わかった、まかせて", "Got it. Leave it to me.", "Okay, leave it to me."),
    ("なぜそんなことをしたの", "Why would you do something like that?", "Why did you do that?"),
    ("ゆめをあきらめないで", "Don't ever give up on your dream.", "Don't give up on your dream."),
    ("あのひとはだれ", "Who's that?", "Who is that person?"),
    ("いまはそれどころじゃない", "We don't have time for that right now!", "Not now!"),
    ("たのしかったね", "That was so much fun.", "That was fun."),
    ("さよなら、またあした", "Bye, see you tomorrow!", "Goodbye, see you tomorrow."),
    ("ほんとうにそれでいいの", "Are you sure that's what you want?", "Is that really okay?"),
    ("みんな、あつまって", "Everybody, gather around!", "Everyone, gather up!"),
    ("しずかにして", "Keep it down.", "Be quiet."),
    ("まちがいない、ここだ", "This is definitely the place.", "No doubt, it's here."),
    ("おかあさん、ただいま", "Mom, I'm home!", "I'm home, Mom."),
    ("きみならできる", "I know you can do it.", "You can do it."),
)
