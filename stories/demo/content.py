"""Demo content for Storyloom: the "Larkspur Mutual" story collection.

Plain Python data. INTERESTS lists the reader interests; STORIES lists the
linked stories, each with a StreamField-style ``body`` of ``(block_type,
value)`` tuples. Run this file directly to check the structure.
"""

from __future__ import annotations

INTERESTS = [
    {
        "slug": "financial-wellbeing",
        "name": "Financial wellbeing",
        "description": "For anyone who wants money to feel less confusing and less lonely, from a first payslip to sorting things out after a loss.",
    },
    {
        "slug": "home",
        "name": "Home",
        "description": "For people keeping a roof over their heads, whether it leaks, sings at night or is about to be handed on to someone new.",
    },
    {
        "slug": "pets",
        "name": "Pets",
        "description": "For people sharing their lives with animals, from the first nervous night with a rescue dog to the last days of an old friend.",
    },
    {
        "slug": "travel",
        "name": "Travel",
        "description": "For travellers of every kind, including the ones whose suitcase went to the wrong city and the ones who need a bit more help getting there.",
    },
    {
        "slug": "family",
        "name": "Family",
        "description": "For parents, grandparents, carers and anyone else juggling the people they love and the logistics that come with them.",
    },
    {
        "slug": "food",
        "name": "Food",
        "description": "For home cooks feeding a family, a crowd or just themselves, with an eye on the budget and a soft spot for leftovers.",
    },
    {
        "slug": "outdoors",
        "name": "Outdoors",
        "description": "For walkers, growers and people who find that a bit of weather and a patch of ground help them think.",
    },
]

STORIES = [
    # ------------------------------------------------------------------
    # Series: Money at the kitchen table
    # ------------------------------------------------------------------
    {
        "slug": "the-payslip-that-made-no-sense",
        "title": "The payslip that made no sense",
        "intro": "Jade's first proper payslip arrived with a number at the bottom she didn't recognise. Her uncle Tomasz sat down with her and a pencil, line by line.",
        "purpose": "solve",
        "interests": ["financial-wellbeing", "family"],
        "series": "Money at the kitchen table",
        "continues": "a-budget-with-a-fifteen-year-old",
        "background": [],
        "related": ["asha-and-the-small-print", "the-envelopes-on-the-hall-table"],
        "body": [
            (
                "paragraph",
                "<p>Jade was nineteen and three weeks into a job at a garden centre outside Harrogate when the first payslip came. She had worked out what she expected to be paid: hours times the hourly rate. The figure at the bottom was smaller, and there were words on the page she had never had to think about. She folded it into quarters and put it in her coat pocket, where it stayed for two days.</p>",
            ),
            (
                "paragraph",
                "<p>Her uncle Tomasz found it when she borrowed his washing machine. He unfolded it on the kitchen table, smoothed it flat with the side of his hand and fetched a pencil.</p>",
            ),
            ("heading", "Gross, then everything else"),
            (
                "paragraph",
                "<p>“Start at the top,” he said. The first big number was <b>gross pay</b>, the full amount she had earned before anything was taken out. That matched her sum, which was a relief in itself. Underneath were the <b>deductions</b>: income tax, National Insurance and a pension contribution. What was left, at the bottom, was <b>net pay</b>, the amount that actually reached her bank account.</p>",
            ),
            (
                "paragraph",
                "<p>Tomasz circled the tax code, a short mix of numbers and a letter. The common one, 1257L, means you can earn a standard amount in a year before paying income tax. If a code ends in W1 or M1, or just says BR or 0T, it is often an emergency code, used when an employer doesn't yet have your details. Jade's said 1257L M1. It meant her tax might not be quite right for a while, and it would usually be put straight once the tax office caught up. She could check it in the HMRC app, which she downloaded while he put the kettle on.</p>",
            ),
            ("heading", "The pension line"),
            (
                "paragraph",
                "<p>The pension deduction was the one that annoyed her most, until Tomasz pointed out the line below it: her employer was paying in as well. “That bit is money you'd be turning down if you opted out,” he said. He didn't tell her what to do. He just made sure she knew both halves of the sum.</p>",
            ),
            (
                "quote",
                {
                    "quote": "I'd assumed someone had made a mistake. It turned out the only mistake was me not asking.",
                    "attribution": "Jade, garden centre assistant",
                },
            ),
            ("story_link", "the-envelopes-on-the-hall-table"),
            (
                "paragraph",
                "<p>Before she left, Tomasz wrote three questions on the back of an envelope for next month: does gross pay match my hours, has the tax code changed, and is my employer still paying into the pension. Jade keeps it in the kitchen drawer with her payslips, which she now unfolds on the day they arrive.</p>",
            ),
        ],
    },
    {
        "slug": "a-budget-with-a-fifteen-year-old",
        "title": "Making a budget with a fifteen-year-old",
        "intro": "Dev wanted his daughter to understand where the household money went. A spreadsheet bored her. A jar of buttons did not.",
        "purpose": "solve",
        "interests": ["financial-wellbeing", "family"],
        "series": "Money at the kitchen table",
        "continues": "asha-and-the-small-print",
        "background": ["the-payslip-that-made-no-sense"],
        "related": ["leo-and-the-marble-run"],
        "body": [
            (
                "paragraph",
                "<p>Dev had tried the spreadsheet first. He'd shared it with his daughter Asha, fifteen, who opened it on her phone, scrolled sideways twice and said, kindly, that it looked like homework. He didn't disagree.</p>",
            ),
            (
                "paragraph",
                "<p>The idea that worked came from Jade, his friend Tomasz's niece, who had just wrestled with her own first payslip. Make it physical, she said. So on a Sunday afternoon Dev emptied a biscuit tin of old buttons onto the kitchen table. Each button stood for ten pounds of the month's take-home pay.</p>",
            ),
            ("heading", "Sorting the buttons"),
            (
                "paragraph",
                "<p>They made piles on sheets of paper labelled in marker: rent, council tax, energy, food, phones and internet, travel, the dog, and “everything else”. Asha did the counting. The rent pile was so big she went quiet for a while, then asked how long it had been that much. The food pile started small and grew as she remembered things: school lunches, the big shop, the takeaway on Fridays.</p>",
            ),
            (
                "paragraph",
                "<p>Her verdict on the phone bill, which she had been sure was the big one, was that it was basically three buttons.</p>",
            ),
            (
                "paragraph",
                "<p>By the end there were only a handful of buttons left in the middle of the table. Dev hadn't planned to talk about savings, but Asha pushed four of them to one side and said those should be for when the boiler breaks. He had not said a word about the boiler.</p>",
            ),
            ("heading", "What they kept doing"),
            (
                "paragraph",
                "<p>The buttons went back in the tin, but a few habits stayed. Once a month they check the bank statement together and see whether each pile was roughly right. Asha gets her own small pile, her allowance, and plans it the same way with fewer sheets of paper. When something costs more than expected, they talk about which pile it comes from rather than whether anyone is to blame.</p>",
            ),
            (
                "paragraph",
                "<p>Dev says the most useful part wasn't the maths. It was that money stopped being a thing adults murmured about in the next room. Asha now asks questions, sometimes awkward ones, and he answers them as plainly as he can. The next question, it turned out, was about the savings account she wanted to open.</p>",
            ),
            (
                "image",
                {
                    "caption": "Piles of mismatched buttons on a kitchen table, each pile sitting on a handwritten label.",
                    "alt": "Buttons sorted into piles on sheets of paper labelled rent, food and energy.",
                },
            ),
        ],
    },
    {
        "slug": "asha-and-the-small-print",
        "title": "Asha and the small print",
        "intro": "Asha wanted to open her first savings account. Before she did, she and her dad read every line of the summary box, and found it said more than they expected.",
        "purpose": "solve",
        "interests": ["financial-wellbeing"],
        "series": "Money at the kitchen table",
        "continues": None,
        "background": ["a-budget-with-a-fifteen-year-old"],
        "related": ["the-payslip-that-made-no-sense"],
        "body": [
            (
                "paragraph",
                "<p>Asha had been saving birthday money and the odd bit of dog-walking cash in a shoebox. After the button afternoon with her dad, she decided it ought to live somewhere that paid her a little for keeping it. She chose three accounts she'd seen mentioned and printed the summary box for each one. Dev made tea and brought a highlighter.</p>",
            ),
            ("heading", "The interest rate is two numbers"),
            (
                "paragraph",
                "<p>The first surprise was that the rate came in two forms. The gross rate is the interest before any tax. The AER, the annual equivalent rate, shows what you'd earn over a year if interest is added more than once and left to grow. Comparing AER against AER made the three accounts easier to line up. One of them had a higher headline rate that included a bonus for the first twelve months, after which it dropped. Asha wrote “bonus ends” in the margin and underlined it twice.</p>",
            ),
            ("heading", "When Asha could take the money out"),
            (
                "paragraph",
                "<p>The access rules mattered more than she'd thought. One account allowed withdrawals whenever she liked. One allowed only three a year, after which the rate fell. The third was a fixed-term account that locked the money away for a year, and taking it out early meant losing some of the interest. None of them charged a fee simply to hold the account, but the penalties were, as Dev put it, fees wearing a disguise.</p>",
            ),
            (
                "paragraph",
                "<p>Asha said it was like a menu where the prices are in the footnotes.</p>",
            ),
            (
                "paragraph",
                "<p>They also looked for the line saying that deposits were protected by the Financial Services Compensation Scheme, which covers money held with an authorised bank or building society up to a set limit if the provider fails. All three had it. Asha found it reassuring in the way a seatbelt is reassuring.</p>",
            ),
            ("heading", "What she chose"),
            (
                "paragraph",
                "<p>She picked the account she could dip into, even though it paid slightly less, because she knew the dog-walking money would sometimes be needed for a trip with friends. Dev thinks that was the right question to ask: not which number is highest, but which rules fit the way you actually live. The shoebox is now used for keeping the summary boxes.</p>",
            ),
        ],
    },
    # ------------------------------------------------------------------
    # Standalone: financial wellbeing
    # ------------------------------------------------------------------
    {
        "slug": "the-envelopes-on-the-hall-table",
        "title": "The envelopes on the hall table",
        "intro": "After Colin was made redundant, the post started piling up unopened. What helped wasn't a plan. It was a mug of tea and one envelope a day.",
        "purpose": "ease",
        "interests": ["financial-wellbeing", "home"],
        "series": None,
        "continues": None,
        "background": [],
        "related": ["the-friend-who-always-chose-the-restaurant", "the-same-loop-on-a-bad-day"],
        "body": [
            (
                "paragraph",
                "<p>Colin worked in the same print works in Stockport for twenty-two years, and then, one Thursday in March, he didn't. He was given a letter, a handshake and a cardboard box. For the first few weeks he was busy: the CV, the forms, the phone calls. Then the envelopes began to stack up on the little table by the front door.</p>",
            ),
            (
                "paragraph",
                "<p>He knew roughly what was in them. The bank, the energy company, the council. Each one felt heavier than the last, and the pile became a thing he walked past quickly, the way you might avoid a neighbour you owe an apology.</p>",
            ),
            ("heading", "One a day"),
            (
                "paragraph",
                "<p>It was his sister Lorraine who suggested the rule, over the phone, without making a fuss about it. One envelope a day, opened at the kitchen table with a mug of tea, before eleven in the morning. No more than one. If it was bad news, it could be bad news for the rest of the day, but not for the whole week.</p>",
            ),
            (
                "paragraph",
                "<p>Colin made three trays out of old shoebox lids. One said <b>needs doing</b>, one said <b>just information</b> and one said <b>can wait</b>. Most letters, it turned out, belonged in the middle tray. Statements, annual summaries, a reminder about a meter reading. The pile had been far more frightening closed than open.</p>",
            ),
            (
                "quote",
                {
                    "quote": "The envelopes weren't the problem. Not knowing what was in them was the problem.",
                    "attribution": "Colin, Stockport",
                },
            ),
            ("heading", "Asking for help early"),
            (
                "paragraph",
                "<p>Two letters did need doing. One was about a payment that had been missed. Colin rang the number on it, said plainly that he'd lost his job and asked what could be arranged. The person on the other end had clearly had the call before, and they agreed smaller payments for a few months. For the other, he booked an appointment with Citizens Advice, who go through this sort of thing for nothing and in confidence.</p>",
            ),
            (
                "paragraph",
                "<p>He has a new job now, at a packaging firm, with shorter days and a longer bus ride. The trays are still on the kitchen windowsill. He doesn't really need the rule any more, but he still opens the post with a mug of tea, because it turned out to be a nice way to start the morning.</p>",
            ),
        ],
    },
    # ------------------------------------------------------------------
    # Linked pair: the price of bread, then Nan's jar
    # ------------------------------------------------------------------
    {
        "slug": "the-price-of-bread-in-1974",
        "title": "The price of bread in 1974",
        "intro": "Grandad Stan kept every shopping receipt in a biscuit tin. His grandson found them, and the family spent an evening arguing happily about what things used to cost.",
        "purpose": "smile",
        "interests": ["financial-wellbeing", "food", "family"],
        "series": None,
        "continues": "nans-jar-of-two-pound-coins",
        "background": [],
        "related": ["grandmas-soup-without-a-recipe"],
        "body": [
            (
                "paragraph",
                "<p>Stan Whitlock is eighty-six and has never thrown away a receipt he considered interesting. Most of them live in a Peek Freans tin on top of the wardrobe in Kettering, sorted loosely by decade. His grandson Ollie, looking for the Christmas lights, brought the tin down instead.</p>",
            ),
            (
                "paragraph",
                "<p>The oldest slip that could still be read was from a grocer's on the high street, dated spring 1974. A large white loaf, a pound of butter, a quarter of tea, some bacon. The loaf cost a number of pence that made Ollie laugh out loud and then go to the kitchen to look at the loaf on the counter, which had cost well over a pound.</p>",
            ),
            ("heading", "What a loaf is really worth"),
            (
                "paragraph",
                "<p>Stan, who had been a schoolteacher, would not let it rest there. Prices go up, he said, but so do wages. The question isn't what the loaf cost, it's how long you had to work to afford it. He fished out a payslip from the same year, because of course he had kept that too, and the two of them worked it out on the back of a napkin.</p>",
            ),
            (
                "paragraph",
                "<p>The answer was less dramatic than Ollie expected. Bread had taken a few minutes of Stan's working time then and took a few minutes of Ollie's mum's working time now. Other things told a different story. The telephone call, the train fare to London and the price of a house were all far more expensive, measured in hours. A colour television, on the other hand, had been an enormous sum and was now almost nothing.</p>",
            ),
            (
                "paragraph",
                "<p>“Inflation,” Stan said, tapping the napkin, “is just the past being stubborn about its prices.”</p>",
            ),
            ("heading", "The evening that followed"),
            (
                "paragraph",
                "<p>By nine o'clock the whole family was round the table. Ollie's mum remembered her first flat. His aunt remembered a bag of chips she was sure had been sixpence, and Stan was sure had not. Nobody could agree on when Mars bars got smaller.</p>",
            ),
            (
                "paragraph",
                "<p>The receipts went back in the tin, but now there is a new one on top, from this year's big shop, with a note in Stan's handwriting: <i>for whoever is arguing about this in 2074</i>. Then Ollie's Nan, Edie, cleared her throat and said that if they wanted to talk about money, she had a jar she'd like them to see.</p>",
            ),
            (
                "image",
                {
                    "caption": "An old biscuit tin full of faded shopping receipts, one from 1974 on top.",
                    "alt": "A tin of curled, yellowed receipts on a kitchen table.",
                },
            ),
        ],
    },
    {
        "slug": "nans-jar-of-two-pound-coins",
        "title": "Nan's jar of two-pound coins",
        "intro": "For eleven years Edie put every two-pound coin she was given into a jar. Nobody knew what it was for until the night it was counted.",
        "purpose": "smile",
        "interests": ["financial-wellbeing", "family"],
        "series": None,
        "continues": None,
        "background": ["the-price-of-bread-in-1974"],
        "related": ["leo-and-the-marble-run"],
        "body": [
            (
                "paragraph",
                "<p>The jar had once held pickled onions. It sat on the shelf above Edie Whitlock's bread bin for so long that the family had stopped seeing it, the way you stop seeing a clock. Whenever a two-pound coin came to Edie in her change, it went in. Not one-pound coins, not fifty-pences. Only the two-pound ones, with their gold rims.</p>",
            ),
            (
                "paragraph",
                "<p>On the night of the great receipt argument, she lifted it down with both hands and set it in the middle of the table. It was very heavy. Her grandson Ollie volunteered to count it and was given a tea towel to put underneath, to protect the table.</p>",
            ),
            ("heading", "The count"),
            (
                "paragraph",
                "<p>Ollie made stacks of ten. Stan, her husband, checked the stacks, because he checks everything. Ollie's mum was sent to find a pen when the stacks reached the edge of the tea towel. It took forty minutes, including a break when a coin rolled under the fridge and had to be retrieved with a fish slice.</p>",
            ),
            (
                "paragraph",
                "<p>The total was a little over nine hundred pounds. There was a silence, then several people talked at once. Eleven years of two-pound coins, never missed, never counted, never mentioned.</p>",
            ),
            (
                "quote",
                {
                    "quote": "I didn't want to know how much was in it. If I knew, I'd have spent it on something sensible.",
                    "attribution": "Edie Whitlock, eighty-three",
                },
            ),
            ("heading", "What it was for"),
            (
                "paragraph",
                "<p>Everyone had a guess. A new settee. A holiday. Something for the grandchildren. Edie waited until they had finished and then said it was for a trip to Ireland, to the village in County Mayo her mother left when she was seventeen, which Edie had never seen. She wanted the whole family to go together, and she wanted to pay for the coach.</p>",
            ),
            (
                "paragraph",
                "<p>Paying a jar of coins into a bank turned out to need a little planning. Ollie rang ahead, and they took the coins in bags of equal amounts, counted and labelled, on a quiet weekday morning. The cashier said she had seen bigger jars but none with a better reason.</p>",
            ),
            (
                "paragraph",
                "<p>The trip is booked for next May. The pickled onion jar is back on the shelf, empty, and Edie has already put the first coin in.</p>",
            ),
        ],
    },
    {
        "slug": "the-friend-who-always-chose-the-restaurant",
        "title": "The friend who always chose the restaurant",
        "intro": "Ellie and Rosa had been friends since school. Then one of them started earning a lot more than the other, and dinners out became quietly painful.",
        "purpose": "ease",
        "interests": ["financial-wellbeing", "food"],
        "series": None,
        "continues": None,
        "background": [],
        "related": ["the-envelopes-on-the-hall-table", "cooking-for-thirty-on-little-money"],
        "body": [
            (
                "paragraph",
                "<p>Ellie and Rosa met on the first day of secondary school in Cardiff, when they were the only two people in the class who had brought the wrong coloured PE kit. Twenty years later they still met once a month for dinner, and for most of those years it was a pizza place, a curry house, somewhere with paper napkins.</p>",
            ),
            (
                "paragraph",
                "<p>Then Rosa got a job at a law firm, and the restaurants changed. Small plates. Tasting menus. Wine lists with a page of explanation. Rosa always chose, because she always had, and she always suggested splitting the bill, because that was fair. Ellie, who works in a school office and was paying for her own childcare, started dreading the second Friday of the month.</p>",
            ),
            ("heading", "The cost of saying nothing"),
            (
                "paragraph",
                "<p>She tried a few tactics. Ordering a starter as a main. Saying she wasn't drinking. Cancelling now and then with a made-up cold. None of it helped, and it started to feel as if the friendship itself had a price on it.</p>",
            ),
            (
                "paragraph",
                "<p>What changed things was small. Rosa mentioned, over a very expensive risotto, that she'd been feeling Ellie pull away and was worried she'd done something wrong. Ellie could have said it was nothing. Instead, she said the true thing, in one breath: that she loved their dinners but couldn't afford these ones, and she'd been too embarrassed to say.</p>",
            ),
            (
                "paragraph",
                "<p>Rosa was quiet for a moment. Then she admitted she'd been choosing places to impress Ellie, who would have been just as happy with chips on a wall.</p>",
            ),
            ("heading", "What they do now"),
            (
                "paragraph",
                "<p>They take turns to choose, and whoever chooses picks somewhere they would be happy to pay for themselves. They order separately and pay separately without comment. Some months it's the pizza place. Some months it's a walk along the bay and a portion of chips, eaten sitting on a wall, which has become their favourite.</p>",
            ),
            (
                "paragraph",
                "<p>Ellie says the conversation took about two minutes and she'd spent eight months avoiding it. Rosa says she is grateful, because she would have kept booking tasting menus and wondering why her oldest friend seemed so sad. Money differences between friends are common and rarely talked about. They had, it turned out, been worrying about the same thing from opposite ends of the table.</p>",
            ),
        ],
    },
    # ------------------------------------------------------------------
    # Series: After Margaret
    # ------------------------------------------------------------------
    {
        "slug": "the-joint-account-after-margaret",
        "title": "The joint account after Margaret",
        "intro": "Ron and Margaret had shared a bank account for fifty-one years. When she died, he didn't know if he was still allowed to use it. Here is what he learned, slowly.",
        "purpose": "ease",
        "interests": ["financial-wellbeing", "family"],
        "series": "After Margaret",
        "continues": "the-letters-that-kept-coming",
        "background": [],
        "related": ["saying-goodbye-to-an-old-dog"],
        "body": [
            (
                "paragraph",
                "<p>Margaret did the money. Ron would tell you that himself, without embarrassment. For fifty-one years she kept the accounts in a green ring binder in the sideboard in their bungalow near Lincoln, and he signed where she pointed. When she died in October, after a short illness, the binder was still in the sideboard and he could not bring himself to open it.</p>",
            ),
            (
                "paragraph",
                "<p>His first worry, oddly, was the gas bill. It went out by direct debit from their joint account. Would the bank freeze it? Would the heating go off? Was he, as he put it to his daughter Claire, still allowed to spend their money?</p>",
            ),
            ("heading", "What usually happens to a joint account"),
            (
                "paragraph",
                "<p>Claire rang the bank with him sitting beside her. They were put through to a bereavement team, which Ron had not known existed. The person there was patient and plain. In most cases, she explained, a joint account simply passes to the surviving account holder. It doesn't get frozen. The direct debits keep running. The bank would need to see a copy of the death certificate to take Margaret's name off the account, but there was no rush, and Ron could keep using his card in the meantime.</p>",
            ),
            (
                "paragraph",
                "<p>Ron put the phone down and cried, not from sadness exactly, but because something he'd been bracing for hadn't happened.</p>",
            ),
            (
                "quote",
                {
                    "quote": "I'd been lying awake thinking they'd cut me off. The lady told me it was my account now. It always had been.",
                    "attribution": "Ron, Lincolnshire",
                },
            ),
            ("heading", "The things that did need doing"),
            (
                "paragraph",
                "<p>Some things needed a little more effort. Margaret had a small savings account in her name alone, and that would be handled as part of her estate, which took longer and needed more paperwork. Claire used the government's Tell Us Once service, which lets you report a death to several public bodies in one go, and a bank notification service that let her tell several banks at once instead of ringing round.</p>",
            ),
            ("story_link", "when-dad-had-the-fall"),
            (
                "paragraph",
                "<p>A few weeks later, Ron opened the green binder. He found Margaret's handwriting on every page, and on the inside cover a list headed <i>If it's just you, Ronnie</i>, with account numbers, password hints and the name of the man who services the boiler. He keeps the list by the phone now. What he hadn't expected, in the months that followed, was the post.</p>",
            ),
        ],
    },
    {
        "slug": "the-letters-that-kept-coming",
        "title": "The letters that kept coming",
        "intro": "Months after Margaret died, envelopes with her name on them still landed on the mat every morning. Ron and his neighbour found a way to make them stop.",
        "purpose": "ease",
        "interests": ["financial-wellbeing", "home"],
        "series": "After Margaret",
        "continues": "margarets-seed-tin",
        "background": ["the-joint-account-after-margaret"],
        "related": ["the-envelopes-on-the-hall-table"],
        "body": [
            (
                "paragraph",
                "<p>The letters came most mornings. Catalogues for gardening gloves. A charity she'd given to once, years ago. A clothing shop with a birthday voucher, addressed to <i>Dear Margaret</i> in a cheerful font. Each one landed on the mat at twenty past nine, and each one, Ron said, was like hearing her name called in a crowded room and turning round to find nobody there.</p>",
            ),
            (
                "paragraph",
                "<p>He mentioned it, not really meaning to, to his neighbour Priya, who was taking her recycling out at the same time as him. Priya had sorted out her own father's affairs two years earlier, and she sat down with him that afternoon.</p>",
            ),
            ("heading", "Three lists"),
            (
                "paragraph",
                "<p>They spread the week's post on Ron's dining table and sorted it into three piles. The first was anything official: the pension, the council, the bank. Most of these had already been dealt with through Tell Us Once, and the rest needed a short letter and a copy of the death certificate, which Priya helped him write. The second pile was companies Margaret had a real relationship with, such as a magazine subscription and a mail-order seed company. Those needed a phone call each. The third pile, the biggest, was marketing.</p>",
            ),
            (
                "paragraph",
                "<p>For that third pile, Priya showed him the Bereavement Register and the Mailing Preference Service, which are free to use and pass a name on to the companies that send unsolicited post, so they can take it off their lists. It isn't instant. It took a couple of months for the catalogues to thin out, and a few stubborn ones needed a direct phone call. But they did thin out.</p>",
            ),
            (
                "paragraph",
                "<p>“You don't have to do it all in one morning,” Priya told him. “You just have to do one pile.”</p>",
            ),
            ("heading", "The one he kept"),
            (
                "paragraph",
                "<p>There was one letter Ron chose not to cancel. The seed company's spring catalogue, with Margaret's name on the front, still comes every January. He reads it at the kitchen table, turning down the corners of pages she would have liked, and it reminded him that there was something in the shed he hadn't looked at yet.</p>",
            ),
            ("story_link", "the-envelopes-on-the-hall-table"),
        ],
    },
    {
        "slug": "margarets-seed-tin",
        "title": "Margaret's seed tin",
        "intro": "In the potting shed Ron found an old toffee tin full of seed packets, every one labelled in his wife's handwriting. He decided to plant them, whether they came up or not.",
        "purpose": "smile",
        "interests": ["outdoors", "home", "family"],
        "series": "After Margaret",
        "continues": None,
        "background": ["the-letters-that-kept-coming"],
        "related": ["first-spring-on-plot-14", "the-bench-with-no-name"],
        "body": [
            (
                "paragraph",
                "<p>The potting shed had been Margaret's territory, as firmly as the green ring binder. Ron went in for the lawnmower and came straight out again. But in March, with the seed catalogue still open on the kitchen table, he went back in, put the radio on and started to clear the shelves.</p>",
            ),
            (
                "paragraph",
                "<p>Behind a stack of clay pots was a square toffee tin, the kind with a Scottish castle on the lid. Inside were dozens of small paper envelopes, some from packets and some folded by hand from old letters. Every one was labelled. <i>Sweet peas, the good pink ones, 2019.</i> <i>Runner beans from Joyce, do not lend.</i> <i>Marigolds, for round the tomatoes.</i> <i>Something from the hospital car park, no idea, try it.</i></p>",
            ),
            (
                "quote",
                {
                    "quote": "She'd written 'do not lend' on the runner beans. I laughed so hard I had to sit on the compost bag.",
                    "attribution": "Ron, on opening the tin",
                },
            ),
            ("heading", "Will old seeds grow?"),
            (
                "paragraph",
                "<p>Ron's granddaughter looked it up. Seeds don't last for ever, but many keep for a few years if they're stored somewhere cool, dry and dark, which a toffee tin in a shed more or less is. Beans and peas often keep well. Some flower seeds fade faster. The simplest way to find out is to try a few on damp kitchen paper in a plastic tub on the windowsill and see what sprouts in a week or two.</p>",
            ),
            (
                "paragraph",
                "<p>They tried it with ten of everything. The runner beans did well. The sweet peas were slow but about half of them woke up. The marigolds did nothing at all. The mystery seeds from the hospital car park sprouted enthusiastically, and nobody could identify them.</p>",
            ),
            ("heading", "The summer that followed"),
            (
                "paragraph",
                "<p>By July the runner beans had reached the top of their canes and the sweet peas, the good pink ones, were climbing the fence by the back door where Margaret always grew them. Ron picked a bunch every few days and put them in a jam jar on the table, because if you don't keep picking sweet peas, they stop flowering. She had told him that many times, and he had never listened until now.</p>",
            ),
            (
                "paragraph",
                "<p>The hospital car park plant turned out to be a very tall and cheerful sunflower. Ron has saved its seeds in a fresh envelope, labelled in his own handwriting: <i>From Margaret's mystery. Do not lend.</i></p>",
            ),
            (
                "image",
                {
                    "caption": "Hand-labelled paper seed envelopes in an old toffee tin on a potting bench.",
                    "alt": "A tin of small handwritten seed envelopes beside clay pots.",
                },
            ),
        ],
    },
    # ------------------------------------------------------------------
    # Series: Winter at home
    # ------------------------------------------------------------------
    {
        "slug": "the-boiler-that-sang-at-night",
        "title": "The boiler that sang at night",
        "intro": "Every night at about two, Nadia's boiler started to sing. Not beautifully. Here is how she found out why, and the small checks that stopped it.",
        "purpose": "solve",
        "interests": ["home"],
        "series": "Winter at home",
        "continues": "the-night-the-roof-gave-way",
        "background": [],
        "related": ["the-great-draught-hunt", "the-first-flat-and-the-fuse-box"],
        "body": [
            (
                "paragraph",
                "<p>Nadia moved into a terraced house in Leeds in November, with two children, a cat and a boiler that was older than her eldest. For the first week it behaved. Then, in the small hours, it began to make a noise somewhere between a kettle and a choir warming up. A rising hum, a gurgle, a long high note. Her son, who is eight, named it Pavarotti.</p>",
            ),
            ("heading", "Listening before fixing"),
            (
                "paragraph",
                "<p>Nadia's dad, a retired caretaker, told her to write down what the noise was like and when it happened before she touched anything. It happened when the heating came on in the early hours. It was worse upstairs. The radiators in the children's rooms were warm at the bottom and cold at the top.</p>",
            ),
            (
                "paragraph",
                "<p>Cold at the top usually means trapped air. With the heating off and the radiators cool, she used a radiator key, a small brass thing that cost next to nothing at the hardware shop, to open the bleed valve at the top corner of each one, holding a cloth underneath. Each one hissed, then spat a little water, and she closed it again. The gurgling got noticeably quieter.</p>",
            ),
            ("heading", "The pressure gauge"),
            (
                "paragraph",
                "<p>Bleeding radiators lets water out of the system, so the next job was the pressure gauge on the front of the boiler. Her manual said it should read roughly between one and one and a half bar when the system is cold. Hers read just under a half. Many combi boilers have a filling loop underneath to top the pressure up, and the manual showed how to use it. Nadia followed it slowly, with her dad on a video call, watching the needle climb.</p>",
            ),
            (
                "quote",
                {
                    "quote": "If the manual doesn't make sense to you, stop there. That's what engineers are for.",
                    "attribution": "Nadia's dad, retired caretaker",
                },
            ),
            (
                "paragraph",
                "<p>The singing mostly stopped. There was still a faint rumbling when the boiler first fired up, so she booked a Gas Safe registered engineer for its annual service. He found a build-up of limescale in the heat exchanger, common in older boilers in hard water areas, which causes a sound engineers call kettling. He cleaned it and told her to keep an eye on the pressure each month.</p>",
            ),
            ("heading", "Other noises, roughly translated"),
            (
                "paragraph",
                "<p>Her dad gave her a rough guide for the future. A gurgle in the radiators usually means air, which bleeding can fix. A tapping or creaking from the pipes as the heating warms up is often just pipes expanding and rubbing against floorboards or clips, mostly harmless, though a plumber can pad them. A loud rumble or a kettle-like whistle from the boiler itself tends to point to limescale or a problem with the water flow, and that is one for an engineer. Anything involving a smell of gas is different altogether: open the windows, leave the house, don't touch any switches, and ring the gas emergency number, 0800 111 999, from outside.</p>",
            ),
            (
                "paragraph",
                "<p>Pavarotti is quiet now. Her son is a little disappointed. Nadia has stuck a note inside the cupboard door with the right pressure written on it, which turned out to be useful sooner than she expected, on the night of the storm.</p>",
            ),
        ],
    },
    {
        "slug": "the-night-the-roof-gave-way",
        "title": "The night the roof gave way",
        "intro": "During a February storm, water started coming through Nadia's landing ceiling at midnight. What she did in the first hour, and what she was glad she hadn't done.",
        "purpose": "solve",
        "interests": ["home"],
        "series": "Winter at home",
        "continues": "the-ceiling-stain-shaped-like-wales",
        "background": ["the-boiler-that-sang-at-night"],
        "related": ["the-first-flat-and-the-fuse-box"],
        "body": [
            (
                "paragraph",
                "<p>The wind had been battering the house since tea time. At about midnight Nadia heard a steady tapping on the landing, went out in her socks and stood in a puddle. Water was dripping from a brown patch on the ceiling, right next to the light fitting.</p>",
            ),
            ("heading", "Electricity first"),
            (
                "paragraph",
                "<p>Her first instinct was to turn on the landing light to see better. She didn't, because of where the water was. Water near a light fitting or socket is the one thing not to gamble on. She went downstairs with her phone torch and switched off the lighting circuit for upstairs at the consumer unit, then, to be safe, the whole house, and lit the landing with a camping lantern.</p>",
            ),
            ("heading", "Catch it, move things, write it down"),
            (
                "paragraph",
                "<p>Next came buckets, with an old towel folded in the bottom of each so the drips didn't splash. She moved the children's bookcase out of the way and rolled back the landing rug. Then, before she mopped anything, she took photographs and a short video: the ceiling, the puddle, the time on the clock. It felt odd to be filming at midnight, but her neighbour, who had been through this, had told her that pictures taken on the night are worth a great deal later, whether for a landlord, a roofer or an insurer.</p>",
            ),
            (
                "paragraph",
                "<p>The ceiling began to sag in one spot, bulging like a blister. A ceiling full of water can come down suddenly, so she kept everyone off the landing. Gary, the roofer she rang the next day, told her afterwards that some people make a small hole in the lowest point of a bulge, with a bucket underneath, to let the water out in a controlled way, but that if in doubt the safest thing is simply to keep clear.</p>",
            ),
            (
                "paragraph",
                "<p>He also put one thing very plainly: whatever you do, don't go up on the roof in a storm. A wet ceiling is cheaper than a broken leg.</p>",
            ),
            (
                "paragraph",
                "<p>She did not go up on the roof. She did not go up in the loft either, which was her second instinct. She rang Gary at seven the next morning, and he came by lunchtime. Three slates had slipped in the wind. He fitted a temporary sheet that afternoon and came back to replace them when the weather settled.</p>",
            ),
            ("story_link", "the-first-flat-and-the-fuse-box"),
            (
                "paragraph",
                "<p>By morning the dripping had slowed to nothing. The buckets held about ten litres between them. On the ceiling was a large brown stain, drying at the edges, in a shape the children found very interesting indeed.</p>",
            ),
        ],
    },
    {
        "slug": "the-ceiling-stain-shaped-like-wales",
        "title": "The ceiling stain shaped like Wales",
        "intro": "After the storm, Nadia's landing ceiling had to dry out before it could be fixed. It took weeks. Her children used the time to give the stain a name, a flag and a national anthem.",
        "purpose": "smile",
        "interests": ["home", "family"],
        "series": "Winter at home",
        "continues": None,
        "background": ["the-night-the-roof-gave-way"],
        "related": ["the-whiteboard-on-the-fridge"],
        "body": [
            (
                "paragraph",
                "<p>It was her daughter who spotted it first, lying on the landing floor on the Saturday after the storm. The brown mark on the ceiling, with its bulge for Anglesey and its long bottom edge, looked exactly like Wales. Her son agreed at once. By Sunday it had a flag, drawn in felt tip and stuck to the wall underneath.</p>",
            ),
            ("heading", "Why you wait"),
            (
                "paragraph",
                "<p>Nadia wanted it gone. The plasterer who came to look told her to wait. A ceiling that has soaked up water needs to dry right through before anyone paints or patches it. Paint over a damp ceiling and the stain tends to come back, often with mould behind it. He tapped it, pressed it gently and said it felt sound, so it wouldn't need replacing, just drying and treating.</p>",
            ),
            (
                "paragraph",
                "<p>So for three weeks the house ran a small drying operation. A dehumidifier hummed on the landing, borrowed from a friend, and it filled its tank every day. The heating stayed on low with a window open a crack to let damp air out. Nadia checked the pressure on the boiler, using the note inside the cupboard door, because the heating was working harder than usual. The children were in charge of emptying the dehumidifier into the bath and reporting on the shrinking of Wales.</p>",
            ),
            (
                "paragraph",
                "<p>The reports became a family fixture. One morning's, in full, read: “Cardiff has gone. Swansea is holding on.”</p>",
            ),
            ("heading", "Goodbye, Wales"),
            (
                "paragraph",
                "<p>When the plasterer came back, the ceiling was dry. He brushed on a stain-blocking primer first, because ordinary emulsion on its own lets water marks show through, and then two coats of white. It took an afternoon. Wales vanished under the roller.</p>",
            ),
            (
                "paragraph",
                "<p>The children held a small ceremony. There was a speech. The felt-tip flag was taken down and is now on the fridge, next to a photograph of the ceiling that Nadia took on the first morning, for the roofer. It was meant as a record of damage. In the family album it is labelled, in a child's handwriting, <i>Wales, 2024 to 2024</i>.</p>",
            ),
            (
                "image",
                {
                    "caption": "A child's felt-tip flag for an imaginary country, stuck to a fridge door beside a photo of a ceiling stain.",
                    "alt": "A hand-drawn flag and a photograph of a brown ceiling stain on a fridge.",
                },
            ),
        ],
    },
    # ------------------------------------------------------------------
    # Standalone: home
    # ------------------------------------------------------------------
    {
        "slug": "the-great-draught-hunt",
        "title": "The great draught hunt",
        "intro": "Joan's house was cold in ways the thermostat couldn't explain. Her grandchildren spent a Saturday afternoon hunting the draughts down with a feather on a stick.",
        "purpose": "solve",
        "interests": ["home", "family"],
        "series": None,
        "continues": None,
        "background": [],
        "related": ["the-boiler-that-sang-at-night", "the-ladder-that-went-round-the-street"],
        "body": [
            (
                "paragraph",
                "<p>Joan's semi in Swindon had a boiler that worked perfectly and a living room that never felt warm. The thermostat said twenty degrees. Her ankles said otherwise. Her grandchildren, Isla and Rory, were staying for the weekend and were looking for something to do that didn't involve a screen. Joan gave them a feather from an old cushion, taped to a pencil, and a notebook.</p>",
            ),
            ("heading", "How to find a draught"),
            (
                "paragraph",
                "<p>On a windy day, a feather held near a gap will flutter if air is moving. So will the smoke from an incense stick, if an adult is holding it, or the back of a damp hand. The children went room by room, slowly, along the edges of windows and doors, around the skirting boards and the loft hatch, and wrote down anything that moved the feather.</p>",
            ),
            (
                "paragraph",
                "<p>The list was longer than Joan expected. The letterbox. The keyhole on the back door. A gap under the living room door you could slide a book through. The old fireplace, which had been boarded up badly. A gap around a pipe under the kitchen sink. And, to everyone's delight, a loose floorboard in the hall that whistled.</p>",
            ),
            ("heading", "Small fixes"),
            (
                "paragraph",
                "<p>Most of the fixes were cheap and could be done that afternoon. A brush draught excluder for the letterbox. A little swinging cover for the keyhole. A long fabric sausage for the bottom of the living room door, which Isla sewed from an old pair of tights and some rice, and named Colin. Self-adhesive foam strips along the window frames where they didn't close snugly. Some filler around the pipe under the sink.</p>",
            ),
            (
                "paragraph",
                "<p>That was the one thing Joan nearly got wrong. She wanted to stuff the air bricks too, but Mike from next door, who is a builder, warned her that air bricks, trickle vents and bathroom fans are there on purpose, to stop condensation and damp. A house needs to breathe, he said. It just doesn't need to gasp. The fireplace got a proper chimney draught stopper instead of cardboard.</p>",
            ),
            (
                "paragraph",
                "<p>That evening the living room felt different. Not tropical, but the chill round the ankles had gone. Joan turned the thermostat down a degree and didn't notice. The whistling floorboard was left alone on the children's instructions, as a reminder.</p>",
            ),
        ],
    },
    {
        "slug": "the-ladder-that-went-round-the-street",
        "title": "The ladder that went round the street",
        "intro": "One ladder, fourteen houses and a notebook hung on a nail. How a terrace in Norwich ended up sharing its tools, and what it did to the neighbourhood.",
        "purpose": "smile",
        "interests": ["home", "outdoors"],
        "series": None,
        "continues": None,
        "background": [],
        "related": ["the-great-draught-hunt"],
        "body": [
            (
                "paragraph",
                "<p>It started, as these things often do, with one ladder. Bill at number 3 had a long aluminium extension ladder left over from his decorating days. When the couple at number 11 needed to clear their gutter, he carried it round. When the woman at number 8 needed to reach a wasps' nest, it went there next. It didn't come back to Bill for four months, and when it did it had a sticker on it that said <i>THE LADDER</i> in capital letters.</p>",
            ),
            ("heading", "The notebook on the nail"),
            (
                "paragraph",
                "<p>Bill didn't mind where it was. He minded not knowing. So he hung a notebook on a nail inside his porch, with a pen on a string, and wrote at the top: <i>If you've got THE LADDER, write your house number here.</i> Within a month, other things started appearing in the notebook. A hedge trimmer at number 6. A carpet cleaner at number 14. A pressure washer. A set of jump leads. A large tin of gloss paint in a colour described as “unfortunate”.</p>",
            ),
            (
                "paragraph",
                "<p>The street now has a shared list of around thirty things, from a wallpaper steamer to a gazebo. Nobody has ever written a rule down, but a few have emerged. Return things clean. Say if something breaks. If you borrow the strimmer, you might also do the verge outside the old man's house at number 1 while you're at it.</p>",
            ),
            (
                "quote",
                {
                    "quote": "I've lived here nineteen years and I know more people through the ladder than through anything else.",
                    "attribution": "Bill, number 3",
                },
            ),
            ("heading", "What it's really for"),
            (
                "paragraph",
                "<p>The money saved is real. Most households use a ladder a couple of times a year, and a good one is not cheap. But the street will tell you that isn't the point. When the ladder travels, a conversation travels with it. Bill knows whose mum is in hospital and whose son has started university, because people mention it while they're signing the notebook.</p>",
            ),
            (
                "paragraph",
                "<p>Last winter, when the woman at number 8 had a fall, the ladder was how people found out. She didn't come to collect it. Someone knocked, and within a day there was a rota for shopping.</p>",
            ),
            (
                "paragraph",
                "<p>THE LADDER is in its sixth year now. It has a second sticker, from a child at number 9, which says <i>THE LADDER: PLEASE BE KIND TO IT</i>. People are.</p>",
            ),
            (
                "image",
                {
                    "caption": "A well-used aluminium ladder leaning against a brick terrace, with a handwritten sticker on one rung.",
                    "alt": "A ladder against a house wall with a sticker reading THE LADDER.",
                },
            ),
        ],
    },
    {
        "slug": "pencil-marks-on-the-kitchen-doorframe",
        "title": "Pencil marks on the kitchen doorframe",
        "intro": "Maureen and Dennis were leaving the house they had lived in for forty-one years. The hardest part to leave behind was a strip of painted wood covered in names and dates.",
        "purpose": "ease",
        "interests": ["home", "family"],
        "series": None,
        "continues": None,
        "background": [],
        "related": ["the-joint-account-after-margaret", "when-dad-had-the-fall"],
        "body": [
            (
                "paragraph",
                "<p>Maureen and Dennis bought their house in Exeter in 1983, when it had orange carpets and a serving hatch. They raised three children there and, later, minded five grandchildren. Now the stairs had become a problem for Dennis's knees, the garden was too much, and they had found a ground-floor flat near their daughter. Everyone agreed it was the right decision. It still felt like pulling out a tooth.</p>",
            ),
            (
                "paragraph",
                "<p>Sorting forty-one years of belongings was hard, but it was a kind of hard they could plan for. They did one room a week, with three boxes: keep, give, go. The thing they had no plan for was the kitchen doorframe.</p>",
            ),
            ("heading", "Forty-one years of heights"),
            (
                "paragraph",
                "<p>On the left-hand side of the frame, under several layers of magnolia, were pencil lines with names and dates. The first was their eldest, Sarah, in 1984, barely above the skirting. The last was their youngest grandson, measured at Easter. Dennis had painted round them every time he redecorated, carefully, with a small brush.</p>",
            ),
            (
                "quote",
                {
                    "quote": "You can't put a doorframe in a removal van. Well, you can, but the new owners might notice.",
                    "attribution": "Dennis, on moving out",
                },
            ),
            ("heading", "What they did"),
            (
                "paragraph",
                "<p>Their granddaughter photographed the frame section by section and measured every mark with a tape measure, writing each one down. A local carpenter cut a plain length of pine to the same height, and the family spent a Sunday afternoon copying every line, name and date onto it in pencil, in the right places. It hangs now on the wall of the new flat, by the kitchen, like a tall thin painting. Anyone who visits gets measured.</p>",
            ),
            (
                "paragraph",
                "<p>They worried about leaving the original for strangers. The new owners were a young couple called Sam and Ama, who came round for a second viewing and saw the marks. Ama asked if they could keep them. She said she'd like their own children to be measured on the same frame one day, a little way along from Sarah.</p>",
            ),
            (
                "paragraph",
                "<p>Last month a card arrived at the new flat. It was a photograph of the doorframe, with one new pencil mark near the bottom, a little below Sarah's first line, and a name Maureen and Dennis didn't know yet. It's on their fridge.</p>",
            ),
        ],
    },
    {
        "slug": "the-first-flat-and-the-fuse-box",
        "title": "The first flat and the fuse box",
        "intro": "On his second night in his first flat, Kofi's lights went out. He had no idea what a consumer unit was. By the end of the evening, he did, and he had found the culprit.",
        "purpose": "solve",
        "interests": ["home"],
        "series": None,
        "continues": None,
        "background": [],
        "related": ["the-night-the-roof-gave-way", "the-boiler-that-sang-at-night"],
        "body": [
            (
                "paragraph",
                "<p>Kofi was twenty-two, newly moved to Glasgow for a job, and proud of his one-bedroom flat in Govanhill. On his second evening there he put some bread in the toaster, switched on the kettle and the whole flat went dark. The fridge stopped humming. His phone was on nine per cent.</p>",
            ),
            (
                "paragraph",
                "<p>He rang his mum in Reading, who told him to find the fuse box. He said he didn't know where it was or what it looked like. She said he'd know it when he saw it. He eventually found a grey plastic box high up inside the hall cupboard, behind the hoover.</p>",
            ),
            ("heading", "What's in the box"),
            (
                "paragraph",
                "<p>Modern fuse boxes are usually called consumer units, and they don't have fuses in the old sense. They have a row of switches. The small ones are circuit breakers, each one for a circuit such as the sockets, the lights or the cooker. The bigger one or two are residual current devices, or RCDs, which cut the power very quickly if they sense electricity leaking somewhere it shouldn't, for example through a faulty appliance or through a person.</p>",
            ),
            (
                "paragraph",
                "<p>One of Kofi's RCD switches had flipped down. His mum talked him through the next part. First, unplug the things that were on when it tripped. Then push the RCD switch back up. If it stays up, plug things back in one at a time, waiting a moment after each, until something trips it again. That thing is probably your culprit.</p>",
            ),
            (
                "paragraph",
                "<p>It was the toaster. Of course it was the toaster, Kofi says now. It had come from his uncle's garage.</p>",
            ),
            ("heading", "When to stop"),
            (
                "paragraph",
                "<p>If the switch won't stay up even with everything unplugged, that's when it's time to stop and call an electrician, or the landlord if you rent. The same goes for any scorch marks, burning smells or switches that are hot to the touch. Kofi didn't need to. He put the toaster in the bin, with a note of apology to his uncle.</p>",
            ),
            (
                "paragraph",
                "<p>The next day he bought a small torch and stuck it inside the cupboard door with a hook. He also took a photo of the consumer unit labels, so next time he wouldn't have to read them by the light of his phone. His mum says he now explains RCDs to visitors whether they've asked or not.</p>",
            ),
            (
                "image",
                {
                    "caption": "A row of labelled switches inside a grey consumer unit in a hall cupboard, lit by a torch.",
                    "alt": "An open consumer unit with one switch flipped down.",
                },
            ),
        ],
    },
    # ------------------------------------------------------------------
    # Series: Biscuit comes home
    # ------------------------------------------------------------------
    {
        "slug": "the-first-night-with-biscuit",
        "title": "The first night with Biscuit",
        "intro": "Hannah had read every guide to bringing a rescue dog home. None of them mentioned that her retired greyhound would not know what stairs were.",
        "purpose": "ease",
        "interests": ["pets"],
        "series": "Biscuit comes home",
        "continues": "biscuit-and-the-postman",
        "background": [],
        "related": ["saying-goodbye-to-an-old-dog"],
        "body": [
            (
                "paragraph",
                "<p>Biscuit was four years old, fawn-coloured and very tall, and had spent his whole life in racing kennels in Essex. Hannah collected him from the rescue on a Saturday afternoon and drove him back to her flat in Brighton with the radio off, because the volunteer had said to keep things quiet. He stood up in the back of the car for the entire journey, swaying gently, like a man on a bus.</p>",
            ),
            ("heading", "What the first night is like"),
            (
                "paragraph",
                "<p>A rescue dog's first night somewhere new is often unsettled, and that's normal. Everything smells wrong. The sounds are different. The rescue had told Hannah that many dogs need days or even weeks to decompress, and that the kindest thing is to make the first few days small and dull: one quiet room, a bed, water, a short walk, no visitors.</p>",
            ),
            (
                "paragraph",
                "<p>So she didn't invite anyone round. She put his bed in the corner of the living room, away from the door, with an old jumper of hers on top. She sat on the floor near him, not too near, and read a book without looking at him much. Biscuit stood in the middle of the room for forty minutes, staring at the television, which was off.</p>",
            ),
            ("heading", "The stairs"),
            (
                "paragraph",
                "<p>Her flat is on the first floor. When it was time for his last trip outside, Hannah discovered that Biscuit had never seen stairs. He looked at the staircase the way you might look at a cliff. In the end she carried the front half of him while he walked the back half, very slowly, which the rescue later told her is completely normal for ex-racers and something they learn in a week or two.</p>",
            ),
            (
                "quote",
                {
                    "quote": "Nobody's first night in a new place is easy. Give him a week before you decide who he is.",
                    "attribution": "Sue, rescue volunteer",
                },
            ),
            (
                "paragraph",
                "<p>He paced until about one in the morning. Hannah left a lamp on low and some quiet radio playing, and lay on the sofa rather than going to bed, so he could see her. At some point she fell asleep. When she woke at six, Biscuit was curled on his bed, nose tucked under his tail, on top of her jumper.</p>",
            ),
            (
                "paragraph",
                "<p>He didn't eat much that first day, which the rescue also said was normal. He drank some water. He looked out of the window at the seagulls. On the third day, he wagged his tail for the first time, at the sound of the letterbox.</p>",
            ),
            (
                "image",
                {
                    "caption": "A tall fawn greyhound curled up asleep on a dog bed, on top of an old woolly jumper.",
                    "alt": "A greyhound asleep in a tight curl on a jumper in a lamp-lit room.",
                },
            ),
        ],
    },
    {
        "slug": "biscuit-and-the-postman",
        "title": "Biscuit and the postman",
        "intro": "Most dogs are supposed to dislike the postman. Biscuit, a retired racing greyhound, decided within a week that Dougie was the most important person in Brighton.",
        "purpose": "smile",
        "interests": ["pets"],
        "series": "Biscuit comes home",
        "continues": "the-walk-that-finally-worked",
        "background": ["the-first-night-with-biscuit"],
        "related": ["the-hamster-in-the-slipper"],
        "body": [
            (
                "paragraph",
                "<p>The letterbox in Hannah's flat makes a particular clank, and on Biscuit's third day it made him wag his tail for the first time. Hannah assumed it was a coincidence. By the end of the week it was clearly not. At twenty past ten each morning, Biscuit would rise from his bed, walk to the front door and lie down facing it, like a small fawn draught excluder, waiting.</p>",
            ),
            (
                "paragraph",
                "<p>The postman was called Dougie. He had been delivering to that street for eleven years and had a healthy respect for dogs, based on experience. The first time Hannah opened the door with Biscuit standing behind her, Dougie took a step back. Biscuit leaned very gently against his legs and closed his eyes.</p>",
            ),
            ("heading", "Why greyhounds lean"),
            (
                "paragraph",
                "<p>Greyhounds often lean on people they trust. It's a sort of hug for an animal without arms. Hannah explained this to Dougie, who said he had been leaned on by many things in his career, but never affectionately. He scratched Biscuit behind the ears. After that, Dougie started knocking rather than just posting.</p>",
            ),
            (
                "quote",
                {
                    "quote": "I've been bitten by a Jack Russell, chased by a goose and stared out by a cat. That's the first time a dog's queued for me.",
                    "attribution": "Dougie, postman",
                },
            ),
            ("heading", "The routine"),
            (
                "paragraph",
                "<p>It became a small ceremony. Knock. Door. Lean. Scratch. Thirty seconds, then Dougie went on his way and Biscuit went back to his bed, satisfied, like a man who has read the paper. On Dougie's days off, Biscuit waited at the door for a long time and then gave a single, heavy sigh that Hannah could hear from the kitchen.</p>",
            ),
            (
                "paragraph",
                "<p>The friendship helped in ways Hannah didn't expect. Biscuit had been nervous of strangers, especially men in hats. Having one kind stranger in a hat turn up every day, at the same time, gave him a way in. He started to be a little braver with the neighbours, and then with people on the seafront.</p>",
            ),
            (
                "paragraph",
                "<p>At Christmas, Biscuit gave Dougie a card. Hannah wrote it. Biscuit provided a nose print in the corner, slightly smudged. Dougie said it was going on his mantelpiece, and that he'd had cards from customers before, but never from one who couldn't read. Walks, though, were still a different matter.</p>",
            ),
        ],
    },
    {
        "slug": "the-walk-that-finally-worked",
        "title": "The walk that finally worked",
        "intro": "Biscuit loved the postman but hated walks: the traffic, the bikes, the other dogs. Hannah stopped trying to make walks longer and started making them smaller, and that changed everything.",
        "purpose": "solve",
        "interests": ["pets", "outdoors"],
        "series": "Biscuit comes home",
        "continues": None,
        "background": ["biscuit-and-the-postman"],
        "related": ["the-same-loop-on-a-bad-day"],
        "body": [
            (
                "paragraph",
                "<p>For two months, walks were the hard part. Biscuit would leave the flat happily enough, then freeze at the end of the road. Buses made him flinch. Cyclists made him spin. Other dogs, especially small barky ones, made him pull so hard that Hannah twice ended up sitting on the pavement. She came home from most walks feeling like she had failed an exam.</p>",
            ),
            ("heading", "Smaller, not longer"),
            (
                "paragraph",
                "<p>A trainer from the rescue came round and watched one walk. Afterwards, over tea, she said Biscuit wasn't being naughty. He was overwhelmed. Ex-racing dogs often have seen very little of ordinary life: traffic, crowds, children on scooters. Every walk down the main road was asking him to cope with a hundred new things at once.</p>",
            ),
            (
                "paragraph",
                "<p>Her suggestions were simple. Drive, or walk by the quietest route, to somewhere calm, even if it meant less distance. Go at quieter times of day, early in the morning or late in the evening. Use a long lead so he could wander and sniff, because sniffing is calming for dogs and tires them out more than you'd think. Keep a distance from the things that scare him, far enough that he notices them but doesn't panic, and give him a treat when he does notice and stays calm.</p>",
            ),
            (
                "paragraph",
                "<p>Ten minutes of sniffing in a quiet field, Jo said, is worth an hour of being dragged past a bus stop.</p>",
            ),
            ("heading", "The field behind the church"),
            (
                "paragraph",
                "<p>Hannah found a small field behind a church at the edge of town, empty at seven in the morning apart from one man with an elderly spaniel. She walked Biscuit there on a long line every day for three weeks. They didn't go far. He sniffed every fence post. Some days he just stood and watched the spaniel from a great distance, and got a piece of cheese for it.</p>",
            ),
            (
                "paragraph",
                "<p>Slowly, the distance shrank. In the fourth week, Biscuit and the spaniel, whose name turned out to be Walter, walked past each other at about ten metres without anyone pulling. In the sixth week, they sniffed noses.</p>",
            ),
            (
                "paragraph",
                "<p>Biscuit still doesn't love the main road. Hannah no longer asks him to. They take the back streets to the church field, and she has stopped measuring walks in miles. She measures them in how relaxed he looks when they get home. Most days now, he's asleep before she has taken her coat off.</p>",
            ),
            ("story_link", "the-same-loop-on-a-bad-day"),
        ],
    },
    # ------------------------------------------------------------------
    # Standalone: pets
    # ------------------------------------------------------------------
    {
        "slug": "puddings-new-diet",
        "title": "Pudding's new diet",
        "intro": "At seventeen, Pudding the cat had started leaving half his dinner. Grace learned how to feed an elderly cat with fussy tastes and tired kidneys.",
        "purpose": "solve",
        "interests": ["pets"],
        "series": None,
        "continues": None,
        "background": [],
        "related": ["saying-goodbye-to-an-old-dog", "the-first-night-with-biscuit"],
        "body": [
            (
                "paragraph",
                "<p>Pudding is a large ginger cat of seventeen who lives with Grace Okafor in Bristol. For most of his life he has eaten anything, including, on one occasion, half a custard tart. So when he began walking away from full bowls, sniffing his food and turning round, Grace noticed at once. He was also drinking a great deal more water, and when she picked him up he felt lighter, his spine more noticeable under the fur.</p>",
            ),
            ("heading", "The vet first"),
            (
                "paragraph",
                "<p>Changes in appetite, thirst and weight in an older cat are worth a vet's visit rather than a guess. Pudding's blood and urine tests showed early kidney disease, which is very common in older cats. The vet explained that it can't be cured, but it can often be managed for a long time, and that food is one of the most important parts of that.</p>",
            ),
            (
                "paragraph",
                "<p>She recommended a special kidney diet, lower in phosphorus and with carefully controlled protein. The trouble was that Pudding had opinions. He sniffed the new food and left the room.</p>",
            ),
            ("heading", "How Grace got him to eat"),
            (
                "paragraph",
                "<p>She changed things slowly, over about ten days, mixing a little more of the new food into the old each time so his stomach and his pride could adjust. She warmed his food to roughly body temperature, a few seconds in the microwave and a good stir to remove hot spots, because older cats often have a weaker sense of smell and warm food smells stronger. She swapped one big meal for four or five small ones, in a shallow saucer instead of a deep bowl, since some cats dislike their whiskers touching the sides.</p>",
            ),
            (
                "paragraph",
                "<p>To help with drinking, she put bowls of water in three different rooms and, on the vet nurse's suggestion, tried a small water fountain. Pudding, who had ignored every toy for ten years, loved it and would sit beside it watching the water run.</p>",
            ),
            (
                "paragraph",
                "<p>Grace calls him an old man with a delicate appetite, and treats him like a guest at a good hotel.</p>",
            ),
            ("story_link", "saying-goodbye-to-an-old-dog"),
            (
                "paragraph",
                "<p>Grace weighs him every fortnight on her bathroom scales, weighing herself first and then herself holding Pudding, and writes it in a notebook for the vet. His weight has been steady for four months. He eats most of each small meal, supervises the fountain and still, at every opportunity, tries to get at the custard tarts.</p>",
            ),
        ],
    },
    {
        "slug": "the-hamster-in-the-slipper",
        "title": "The hamster in the slipper",
        "intro": "When Maisie's hamster escaped, the whole family searched for two days. In the end a bag of flour, a bucket and a very old slipper solved the mystery.",
        "purpose": "smile",
        "interests": ["pets", "family"],
        "series": None,
        "continues": None,
        "background": [],
        "related": ["biscuit-and-the-postman", "gran-and-the-ceiling-camera"],
        "body": [
            (
                "paragraph",
                "<p>The hamster's name was Professor, because Maisie, who is nine, thought he looked clever. He was a golden Syrian hamster with enormous cheeks and a habit of testing the door of his cage every night. On a Tuesday in half term, he found the bit of the door that didn't quite close.</p>",
            ),
            (
                "paragraph",
                "<p>Maisie discovered the empty cage at breakfast. There was crying. Her dad Marcus, still in his dressing gown, declared a family search, and they spent the morning on their hands and knees looking behind the fridge, under the sofa and inside every shoe. They found two odd socks, a lost earring and a lot of dust. They did not find Professor.</p>",
            ),
            ("heading", "Thinking like a hamster"),
            (
                "paragraph",
                "<p>Maisie's aunt, who once kept gerbils, gave some advice over the phone. Hamsters are awake at night and asleep in the day, so searching in daylight is mostly searching for a sleeping hamster in a very good hiding place. Close the doors to each room, so you can narrow down where he is. Check anywhere dark, soft and warm. And at night, try a flour trail.</p>",
            ),
            (
                "paragraph",
                "<p>That evening they sprinkled a thin line of flour across each doorway, with a few sunflower seeds in the middle of each room. In the morning, there were tiny footprints in the hall flour, heading towards the coats. So the next night, Marcus built a trap from a bucket, a ramp of books, some bedding and a piece of apple at the bottom. A hamster can climb in but not out, and the bedding makes for a soft landing.</p>",
            ),
            (
                "quote",
                {
                    "quote": "We'd built a grand hotel with a one-way door, and he walked straight past it.",
                    "attribution": "Marcus, Maisie's dad",
                },
            ),
            ("heading", "The slipper"),
            (
                "paragraph",
                "<p>Professor ignored the bucket. On the third morning, Marcus's dad, visiting for the week, went to put on his slippers, which had been sitting under the coat rack. The left one was heavier than it should have been. Inside, curled up in the toe on a nest of shredded tissue, was Professor, asleep, with his cheeks full of sunflower seeds.</p>",
            ),
            (
                "paragraph",
                "<p>Grandad had to wear one slipper and one sock until lunchtime, because nobody was prepared to wake a sleeping hamster. Professor's cage now has a small bulldog clip on the door. The slipper, retired from use, sits on a shelf in Maisie's room, and Professor is allowed to visit it under supervision.</p>",
            ),
            (
                "image",
                {
                    "caption": "A golden hamster asleep in the toe of a worn tartan slipper, cheeks full.",
                    "alt": "A hamster curled up asleep inside an old slipper.",
                },
            ),
        ],
    },
    {
        "slug": "saying-goodbye-to-an-old-dog",
        "title": "Saying goodbye to an old dog",
        "intro": "Moss the collie was fifteen and tired. The Hendersons had to decide when to let him go, and how to talk to their children about it honestly.",
        "purpose": "ease",
        "interests": ["pets", "family"],
        "series": None,
        "continues": None,
        "background": [],
        "related": ["puddings-new-diet", "grandmas-soup-without-a-recipe"],
        "body": [
            (
                "paragraph",
                "<p>Moss had been the Hendersons' dog for fifteen years, which meant he was older than both of their children. He was a black and white collie who once herded a whole birthday party into the kitchen. By last spring, he was stiff in the back legs, deaf, and sleeping most of the day. Some days were good. More and more, they were not.</p>",
            ),
            ("heading", "Knowing when"),
            (
                "paragraph",
                "<p>Their vet, a quiet woman called Dr Lewis, said there is rarely a perfect moment, and that most owners worry about going too soon when, in her experience, they more often wait a little too long. She suggested they keep a simple calendar on the fridge and mark each day as good or bad. When the bad days clearly outnumbered the good ones, it would be time to talk again. She also suggested writing down three things Moss loved, and noticing when he could no longer do them.</p>",
            ),
            (
                "paragraph",
                "<p>Moss loved the beach, his dinner and lying in the sun by the back door. By June he could no longer manage the beach. By July, he was leaving his dinner. One morning in August he didn't get up to lie in the sun, and Fiona Henderson knew.</p>",
            ),
            ("heading", "Talking to the children"),
            (
                "paragraph",
                "<p>Their children were six and ten. Dr Lewis gave them one piece of advice that Fiona says she will always be grateful for: use the real words. Say that Moss is going to die, that the vet will give him an injection that will stop his heart, and that it won't hurt him. Avoid saying he'll be “put to sleep” to young children, because some become frightened of going to sleep themselves.</p>",
            ),
            (
                "quote",
                {
                    "quote": "The children coped better with the truth than I did. It was me who needed the gentle words.",
                    "attribution": "Fiona Henderson",
                },
            ),
            (
                "paragraph",
                "<p>They chose for the vet to come to the house, which many practices can arrange. Moss lay on his blanket by the back door, in the sun. The children said goodbye and then chose to go next door, to a neighbour's, while it happened. Fiona and her husband stayed. It was very quick and very calm.</p>",
            ),
            (
                "paragraph",
                "<p>Afterwards, the children drew pictures of Moss at the beach, and they put his collar in a box with the pictures and a tuft of his fur. The good-and-bad calendar is still in a drawer. Fiona hasn't been able to throw it away, and has decided that she doesn't need to.</p>",
            ),
        ],
    },
    # ------------------------------------------------------------------
    # Series: The Porto suitcase
    # ------------------------------------------------------------------
    {
        "slug": "a-lost-suitcase-in-porto",
        "title": "A lost suitcase in Porto",
        "intro": "Mei and Callum landed in Porto for a friend's wedding. One suitcase came round the carousel. The other did not. The half hour that followed made all the difference.",
        "purpose": "solve",
        "interests": ["travel"],
        "series": "The Porto suitcase",
        "continues": "three-days-in-borrowed-clothes",
        "background": [],
        "related": ["the-passport-that-expired-quietly", "travelling-with-an-inhaler"],
        "body": [
            (
                "paragraph",
                "<p>The carousel at Porto airport went round eleven times. Mei's small blue case came out on the second lap. Callum's large black one, containing his suit for the wedding, two pairs of shoes and a carefully wrapped present, never appeared. The belt stopped. A sign lit up saying something in Portuguese that neither of them could read but both of them understood.</p>",
            ),
            ("heading", "Don't leave the airport yet"),
            (
                "paragraph",
                "<p>Callum's instinct was to get a taxi and sort it out later. Mei, who had been through this once in Madrid, steered him instead to the baggage services desk inside the arrivals hall, before they went through the exit doors. Reporting a missing bag before you leave the baggage area makes everything simpler afterwards.</p>",
            ),
            (
                "paragraph",
                "<p>At the desk they filled in a form called a Property Irregularity Report. Callum described the case in detail: the colour, the brand, a yellow ribbon on the handle, what was inside. He gave the address of their guesthouse and his mobile number. They handed over his boarding pass and the baggage tag stub stuck to it. In return he got a copy of the report with a reference number, which Mei photographed immediately, because paper has a way of disappearing on holiday.</p>",
            ),
            (
                "quote",
                {
                    "quote": "That little reference number is the whole story. Without it you're just a man describing a suitcase.",
                    "attribution": "Mei, who had done this before",
                },
            ),
            ("heading", "Keeping track of what you spend"),
            (
                "paragraph",
                "<p>The agent told them that most delayed bags turn up within a couple of days, usually on a later flight. In the meantime, airlines will often cover reasonable costs for essentials such as a toothbrush, underwear and a change of clothes, as long as you keep the receipts. Mei started a note on her phone there and then, listing each thing they paid for and taking a photo of each receipt.</p>",
            ),
            (
                "paragraph",
                "<p>She also noted the deadline for making a written claim. For delayed baggage on international flights, the rules generally give you twenty-one days from when the bag is returned, and it's easy to forget once the drama is over. She set a reminder.</p>",
            ),
            ("story_link", "travelling-with-an-inhaler"),
            ("heading", "If it never turns up"),
            (
                "paragraph",
                "<p>Most delayed bags do find their owners, but not all. If a bag still hasn't appeared after twenty-one days, airlines generally treat it as lost, and the claim becomes one for the value of what was inside rather than for toothbrushes and socks. That is where photos help. Mei always takes a quick picture of her open suitcase before she zips it, a habit Callum had thought was odd until that afternoon. If you have travel insurance, the policy may cover some of what the airline doesn't, and it will usually want to see the airline's report, so the reference number matters there too.</p>",
            ),
            (
                "paragraph",
                "<p>They left the airport forty minutes later than planned, with one suitcase and a reference number. The wedding was in three days. Callum's suit was somewhere else in Europe. Their friend Rui, who was getting married, said on the phone that he had an idea, and that Callum should not be alarmed by it.</p>",
            ),
        ],
    },
    {
        "slug": "three-days-in-borrowed-clothes",
        "title": "Three days in borrowed clothes",
        "intro": "While his suitcase toured Europe, Callum spent three days in Porto wearing clothes lent by a groom's enormous uncle. His suitcase, when it came back, had a story of its own.",
        "purpose": "smile",
        "interests": ["travel"],
        "series": "The Porto suitcase",
        "continues": None,
        "background": ["a-lost-suitcase-in-porto"],
        "related": ["the-postcard-that-took-nine-years"],
        "body": [
            (
                "paragraph",
                "<p>Rui's idea was his uncle Abílio. Uncle Abílio was six foot four, a retired fisherman from Matosinhos, and the owner of an extensive wardrobe of shirts with large collars. He arrived at the guesthouse the next morning with two carrier bags and an expression of great seriousness.</p>",
            ),
            (
                "paragraph",
                "<p>Callum is five foot nine. The first shirt came down to his knees. The trousers were held up with a belt and some faith. Mei took a photograph and, she admits, several more.</p>",
            ),
            ("heading", "Tourism, but larger"),
            (
                "paragraph",
                "<p>They decided to enjoy it. They walked along the river in the sun, Callum's sleeves rolled up four times. They ate grilled sardines in a place near the fish market where the waiter looked at his shirt, recognised it, and asked after Abílio. They crossed the big iron bridge, and a gust of wind turned the shirt into a sail. The toothbrush, socks and underwear they'd picked up at the pharmacy and a small department store went into Mei's receipt list. The shirts did not, because they were a gift of sorts, and a very personal one.</p>",
            ),
            (
                "quote",
                {
                    "quote": "He looked like a little boy in his father's clothes. He was very happy. He said the shirt made him feel like a poet.",
                    "attribution": "Uncle Abílio, on lending his wardrobe",
                },
            ),
            ("heading", "The suitcase returns"),
            (
                "paragraph",
                "<p>On the morning of the wedding, a courier pulled up outside the guesthouse. The black case with the yellow ribbon was on the back seat. It had, according to the tags now stuck all over it, been to Frankfurt and then, for reasons nobody could explain, to Helsinki. It smelled faintly of coffee. Everything inside was where Callum had left it, including the present.</p>",
            ),
            (
                "paragraph",
                "<p>Callum wore his own suit to the wedding. But at the evening party, after the speeches, he changed into Uncle Abílio's largest shirt, the one with parrots on it, and the two of them danced together to a song neither of them knew. There are photographs of that too.</p>",
            ),
            (
                "paragraph",
                "<p>A few weeks later, back in Manchester, Mei sent the airline the reference number, the receipts and the list. The essentials were reimbursed within a month. Callum has since bought a shirt with parrots on it, in his own size. He says it doesn't feel the same.</p>",
            ),
            (
                "image",
                {
                    "caption": "A man in a far-too-large patterned shirt standing on a sunny riverside in Porto.",
                    "alt": "A smiling man in an enormous shirt with sleeves rolled up, by a river.",
                },
            ),
        ],
    },
    # ------------------------------------------------------------------
    # Standalone: travel
    # ------------------------------------------------------------------
    {
        "slug": "travelling-with-an-inhaler",
        "title": "Travelling with an inhaler",
        "intro": "Sofia has had asthma since she was six. Before her first trip abroad on her own, she made a short list of what to pack and what to find out. It got her through a pollen storm in Granada.",
        "purpose": "solve",
        "interests": ["travel"],
        "series": None,
        "continues": None,
        "background": [],
        "related": ["a-lost-suitcase-in-porto", "frank-goes-to-lisbon"],
        "body": [
            (
                "paragraph",
                "<p>Sofia was twenty-four and heading to Granada for a month to study Spanish. She had travelled with her family plenty of times, but her mum had always been the one with the inhalers in her handbag. This time it was her. A week before leaving, she sat down with her asthma nurse and a notebook.</p>",
            ),
            ("heading", "In the hand luggage, not the hold"),
            (
                "paragraph",
                "<p>The first rule was simple. Her reliever inhaler went in her hand luggage, not in a suitcase that might end up in another country. Inhalers are allowed through airport security, and it helps to keep them in their original box with the pharmacy label showing her name. She took a spare reliever too, kept in a different bag, so losing one bag wouldn't mean losing both.</p>",
            ),
            (
                "paragraph",
                "<p>She brought enough of her preventer inhaler for the whole month and a little extra in case of delays, a copy of her prescription, and a short letter from her GP surgery listing her medicines by their generic names, which are understood more widely than brand names. She kept a photo of both on her phone.</p>",
            ),
            ("heading", "Knowing what to look out for"),
            (
                "paragraph",
                "<p>Her nurse asked about her triggers. Cold air, smoke and pollen, mostly. Spring in southern Spain can bring high pollen counts and, occasionally, dust blown across from North Africa. Sofia set a pollen forecast on her phone for Granada and wrote down her asthma action plan: what her symptoms look like when they're getting worse, what to take, and when to get help.</p>",
            ),
            (
                "paragraph",
                "<p>She also wrote three things on a card in Spanish: “Tengo asma” (I have asthma), “¿Dónde está la farmacia?” (where is the pharmacy?) and 112, the emergency number across the European Union. She told her travel insurer about her asthma before she went, since pre-existing conditions usually need to be declared.</p>",
            ),
            (
                "paragraph",
                "<p>The card felt a bit dramatic when she wrote it, Sofia says. By the second week it felt like the cleverest thing she'd packed.</p>",
            ),
            (
                "paragraph",
                "<p>In the second week, a warm wind brought a haze over the city and the pollen count went high. Sofia felt her chest tighten on the walk up to the Alhambra. She stopped, sat on a wall in the shade, used her reliever as her plan said, and waited. It eased. She spent the afternoon indoors at the language school, and the next day was fine.</p>",
            ),
            (
                "paragraph",
                "<p>She came home with a better accent, a love of almond biscuits and both inhalers. She says the list was the thing that made her feel grown up, not the flight.</p>",
            ),
        ],
    },
    {
        "slug": "stranded-at-crewe-with-a-six-year-old",
        "title": "Stranded at Crewe with a six-year-old",
        "intro": "A late train, a missed connection and a platform at ten at night. What Hollie learned about her ticket, and about the kindness of a man in a high-vis jacket.",
        "purpose": "ease",
        "interests": ["travel", "family"],
        "series": None,
        "continues": None,
        "background": [],
        "related": ["the-first-week-of-nursery", "the-postcard-that-took-nine-years"],
        "body": [
            (
                "paragraph",
                "<p>Hollie and her son Alfie, six, were travelling from Cardiff to Glasgow to see her sister. The plan had one change, at Crewe, with twenty minutes to spare. The first train sat outside Shrewsbury for fifty minutes with a signalling problem. By the time they reached Crewe, the connection had gone. It was ten past ten at night, the platform was cold and Alfie had run out of crisps and patience at the same moment.</p>",
            ),
            ("heading", "The panic, and the man in the high-vis jacket"),
            (
                "paragraph",
                "<p>Hollie's first thought was that she'd have to pay for new tickets, or a hotel, or both. She stood on the platform looking at the departure board and feeling her chest tighten. A member of station staff, an older man with a lanyard and a flask, noticed her expression and came over before she'd said a word.</p>",
            ),
            (
                "paragraph",
                "<p>He looked at her tickets and explained something she hadn't known. If you miss a connection because your first train was delayed, and both journeys are on the same ticket or booking, you're normally allowed to travel on the next available train to your destination. You don't need a new ticket. If there's no train left that night, the train companies are expected to help you get there or find somewhere to stay.</p>",
            ),
            (
                "quote",
                {
                    "quote": "You're not stuck, love. You're just late. Those are different things.",
                    "attribution": "Terry, station staff at Crewe",
                },
            ),
            ("heading", "A long night made shorter"),
            (
                "paragraph",
                "<p>There was one more train north that night, leaving in an hour. Terry took them to a waiting room with a heater, told Alfie about the freight trains that go through in the small hours, and came back with a hot chocolate from his own flask, in a paper cup. He also wrote down, on the back of Hollie's ticket, the words <i>Delay Repay</i>, and told her to claim for the delay afterwards, because most train companies will pay back part of the fare when you arrive late by a set amount.</p>",
            ),
            (
                "paragraph",
                "<p>They reached Glasgow at twenty to three in the morning. Alfie slept from Preston onwards with his head on her coat. Her sister met them at the station in pyjamas and a parka.</p>",
            ),
            (
                "paragraph",
                "<p>Hollie did claim afterwards, online, in about five minutes, and got part of the fare back. But the thing she remembers is the hot chocolate. She wrote to the station afterwards to thank Terry by name. She says she doesn't know if he ever saw it, but she hopes someone read it out to him.</p>",
            ),
        ],
    },
    {
        "slug": "the-passport-that-expired-quietly",
        "title": "The passport that expired quietly",
        "intro": "Neil checked his passport the night before a family holiday and saw a date that was, technically, fine. It turned out 'technically fine' and 'allowed to travel' are not the same thing.",
        "purpose": "solve",
        "interests": ["travel", "family"],
        "series": None,
        "continues": None,
        "background": [],
        "related": ["a-lost-suitcase-in-porto", "travelling-with-an-inhaler"],
        "body": [
            (
                "paragraph",
                "<p>Neil is the sort of person who packs the night before. Two days before a family trip to Crete, his partner Kasia asked, mildly, whether anyone had looked at the passports. Neil said his was fine. It didn't expire until the autumn. Kasia asked him to check anyway, and to read the rules rather than just the date.</p>",
            ),
            ("heading", "Two dates, not one"),
            (
                "paragraph",
                "<p>For many countries, the question isn't only whether your passport is in date on the day you fly. For travel to most countries in the European Union from the UK, the government's travel advice says a passport needs to have been issued less than ten years before the day you arrive, and to be valid for at least three months after the day you plan to leave. Some countries elsewhere ask for six months of validity remaining. A few ask for blank pages.</p>",
            ),
            (
                "paragraph",
                "<p>Neil's passport expired in October, so it looked as if he had plenty of time. But it had been issued ten and a half years earlier, back when passports renewed early could have extra months added on. That meant it failed the ten-year rule. Under the rules, he wasn't allowed in.</p>",
            ),
            (
                "paragraph",
                "<p>He had looked at that expiry date a hundred times. He had never once looked at the date above it.</p>",
            ),
            ("heading", "What they did"),
            (
                "paragraph",
                "<p>There was no time for an ordinary renewal. The Passport Office has faster services for urgent travel, and after an anxious evening online Neil got an appointment at an office in Peterborough the next morning, with his old passport, a new photo and a printout of the booking. It cost considerably more than a standard renewal, and it meant a very early drive. But he came out with a new passport that afternoon.</p>",
            ),
            (
                "paragraph",
                "<p>They made the flight. On the first evening in Crete, on a terrace above the sea, Kasia produced a piece of card on which she had written the issue date and expiry date of every passport in the family. It now lives in the drawer with the passports. On the first of January each year, Neil checks it and puts a reminder in his calendar for any passport with less than eighteen months left.</p>",
            ),
            (
                "paragraph",
                "<p>He still packs the night before. But he reads the passport the month before, and he reads all of it.</p>",
            ),
        ],
    },
    {
        "slug": "the-postcard-that-took-nine-years",
        "title": "The postcard that took nine years",
        "intro": "A postcard of a donkey on a Greek island landed on a doormat in Derby nine years after it was sent. Everyone it mentioned had changed a great deal.",
        "purpose": "smile",
        "interests": ["travel", "family"],
        "series": None,
        "continues": None,
        "background": [],
        "related": ["three-days-in-borrowed-clothes", "the-price-of-bread-in-1974"],
        "body": [
            (
                "paragraph",
                "<p>On a Wednesday morning in March, a postcard dropped onto the mat at a house in Derby. On the front was a donkey in a straw hat, standing in front of a whitewashed church on the island of Naxos. On the back, in the round handwriting of a ten-year-old, was a message to Gran and Grandpa. The postmark was from August, nine years earlier.</p>",
            ),
            (
                "paragraph",
                "<p>It had been written by Priyanka, who was now nineteen and at university in Leeds. Nobody knows where it had been for nine years. Very late post does turn up now and then, usually because something slipped behind a machine or a cabinet somewhere along the way, and the explanation is rarely more exciting than that.</p>",
            ),
            ("heading", "What it said"),
            (
                "paragraph",
                "<p>The message, in full, read: <i>Dear Gran and Grandpa. It is very hot. We saw a donkey. Rohan was sick on the boat. I have learned to say thank you in Greek but I have forgotten it. I am going to be a marine biologist. Love Priyanka.</i> There was a drawing of a fish with, for some reason, eyebrows.</p>",
            ),
            (
                "paragraph",
                "<p>Rohan, as his gran likes to point out, is now six foot two and works in a bank. He will never live down the boat.</p>",
            ),
            ("heading", "Nine years later"),
            (
                "paragraph",
                "<p>Gran photographed the card and sent it to the family group chat, where it caused a small storm. Rohan, the brother who had been sick on the boat, said he had no memory of this and demanded evidence. Their mum found a photograph from that holiday in which he was, unmistakably, quite green.</p>",
            ),
            (
                "paragraph",
                "<p>Priyanka, as it happens, is studying marine biology. She had completely forgotten that she'd decided this at ten, on a Greek island, and says it felt like getting a message from a version of herself she'd lost track of. She rang her gran that evening and they talked for an hour, mostly about the donkey.</p>",
            ),
            (
                "paragraph",
                "<p>The postcard is now in a frame in Gran's hall. Priyanka has sent her a new one, from a field trip to the Isle of Mull, with a drawing of a seal. It arrived in two days, which Gran says was a bit of a disappointment.</p>",
            ),
            (
                "image",
                {
                    "caption": "A faded holiday postcard of a donkey in a straw hat, in a simple frame on a hallway wall.",
                    "alt": "A framed postcard showing a donkey in front of a white church.",
                },
            ),
        ],
    },
    {
        "slug": "frank-goes-to-lisbon",
        "title": "Frank goes to Lisbon",
        "intro": "A year after his fall, Frank, now using a wheelchair, wanted to see Lisbon again. His daughter Rachel planned the trip around the hills, the airports and his pride.",
        "purpose": "ease",
        "interests": ["travel", "family"],
        "series": None,
        "continues": None,
        "background": ["when-dad-had-the-fall"],
        "related": ["travelling-with-an-inhaler", "a-lost-suitcase-in-porto"],
        "body": [
            (
                "paragraph",
                "<p>Frank went to Lisbon on his honeymoon in 1968 and had always meant to go back. After his fall the year before, he used a wheelchair for anything longer than the walk from his chair to the kitchen. He assumed that meant Lisbon was off. His daughter Rachel assumed it meant Lisbon needed planning.</p>",
            ),
            ("heading", "Asking for help before you need it"),
            (
                "paragraph",
                "<p>The airport part turned out to be the easiest. Airports in the UK and the EU provide free assistance for passengers with reduced mobility, but it works far better if you ask for it in advance, at least forty-eight hours before the flight, through the airline. Rachel booked it when she booked the flights. She also told the airline about the wheelchair's dimensions and how it folded, because every airline wants to know.</p>",
            ),
            (
                "paragraph",
                "<p>On the day, someone met them at check-in at Bristol, took them through security by a quieter route and helped Frank onto the plane before everyone else boarded. At Lisbon, his own wheelchair was waiting at the aircraft door.</p>",
            ),
            (
                "quote",
                {
                    "quote": "I was dreading being a nuisance. Nobody treated me like one. I felt like a visiting dignitary.",
                    "attribution": "Frank, aged eighty-one",
                },
            ),
            ("heading", "A city of hills"),
            (
                "paragraph",
                "<p>Lisbon is famously steep and famously cobbled, which is lovely to look at and hard work for wheels. Rachel looked at a map with the contour lines showing and chose a hotel in the flat Baixa district near the river. She planned each day around one hill at most, using taxis with room for the chair to get to the tops and then coming gently downhill on the smoothest pavements she could find. The long riverside walk out towards Belém was flat and smooth, and they spent a whole afternoon there eating custard tarts on a bench.</p>",
            ),
            (
                "paragraph",
                "<p>Some things didn't work. The famous yellow tram was far too narrow. One restaurant had four steps and no ramp, and they went next door instead. Rachel learned to ring ahead and ask, plainly, about steps and toilets, which people answered without fuss.</p>",
            ),
            (
                "paragraph",
                "<p>On the last evening they found the café where Frank had proposed a toast on his honeymoon. It was a phone shop now. He laughed for a long time, and then they had a glass of port in the place next door, which he said would do nicely.</p>",
            ),
        ],
    },
    # ------------------------------------------------------------------
    # Standalone: family
    # ------------------------------------------------------------------
    {
        "slug": "the-first-week-of-nursery",
        "title": "The first week of nursery",
        "intro": "Leaving her daughter at nursery for the first time, Amara cried in the car park. Here is what the staff told her about goodbyes, and what made the second week easier.",
        "purpose": "ease",
        "interests": ["family"],
        "series": None,
        "continues": None,
        "background": [],
        "related": ["the-lunchbox-rut", "stranded-at-crewe-with-a-six-year-old"],
        "body": [
            (
                "paragraph",
                "<p>Zara was two and a half and had never spent a day away from her mum or her grandma. Amara was going back to work three days a week as a pharmacist in Luton, and the nursery round the corner had a space. On the first morning Zara clung to Amara's leg like a koala to a tree. Amara peeled her off, handed her to a smiling key worker called Bev, walked out, and cried in the car for twenty minutes.</p>",
            ),
            ("heading", "What the nursery said"),
            (
                "paragraph",
                "<p>At pick-up, Bev told her something that helped. Zara had cried for about five minutes after she left, then found the sand tray and spent most of the morning there. Most children settle much faster than their parents think, Bev said, and often the hardest part of the day is the goodbye itself.</p>",
            ),
            (
                "paragraph",
                "<p>She gave Amara three suggestions. Keep goodbyes short, warm and the same every day. Always say goodbye rather than slipping out while your child is distracted, because sneaking away can make children more anxious about being left. And bring something from home, something small that smells of home, for the first few weeks.</p>",
            ),
            (
                "paragraph",
                "<p>“A long goodbye tells them something's wrong,” Bev said. “A quick, happy one tells them this is normal and you'll be back.”</p>",
            ),
            ("heading", "The goodbye routine"),
            (
                "paragraph",
                "<p>Amara and Zara invented a goodbye. Two kisses, one on each cheek, then a high five, then Amara says, “Mummy always comes back,” and Zara says, “After snack time.” It takes about fifteen seconds. Zara chose a small knitted rabbit, made by her grandma, to go in her bag each day. Amara also started arriving at pick-up at exactly the same time, so the day had a reliable shape.</p>",
            ),
            (
                "paragraph",
                "<p>The second week was better. There were still tears on Monday, and a wobble on Wednesday after a bad night's sleep. But by the third week, Zara was letting go of Amara's hand at the door and running towards the sand tray before the high five was finished, which Amara found, to her own surprise, slightly upsetting in a completely different way.</p>",
            ),
            ("story_link", "the-lunchbox-rut"),
            (
                "paragraph",
                "<p>She stopped crying in the car park after the first week. She says what she wished someone had told her at the start is that it's normal for the parent to find it harder than the child, and that this doesn't mean anything is wrong.</p>",
            ),
        ],
    },
    {
        "slug": "gran-and-the-ceiling-camera",
        "title": "Gran and the ceiling camera",
        "intro": "For six months of Sunday video calls, Dilys's family mostly saw her kitchen ceiling. Her grandson drove to Aberystwyth with a tablet stand and a great deal of patience.",
        "purpose": "smile",
        "interests": ["family"],
        "series": None,
        "continues": None,
        "background": [],
        "related": ["the-hamster-in-the-slipper", "the-postcard-that-took-nine-years"],
        "body": [
            (
                "paragraph",
                "<p>Dilys is eighty-seven and lives on her own in Aberystwyth, and every Sunday at four o'clock the whole family joins a video call with her. Her daughter in Swansea, her son in Bristol, her grandchildren in three different cities. For the first six months, what they mostly saw was her kitchen ceiling, a light fitting, and occasionally, very close up, her left ear.</p>",
            ),
            (
                "paragraph",
                "<p>She held the tablet flat, like a tray. When she wanted to see someone better, she brought it closer to her face. When she wanted to hear better, she held it up to her ear like a phone. The family got very good at recognising her ceiling in different lights.</p>",
            ),
            ("heading", "The visit"),
            (
                "paragraph",
                "<p>Her grandson Gethin, who is twenty-six and works in IT, drove up one weekend with a small tablet stand, the kind with bendy legs, and a list. He didn't want to take over. He wanted to make the few things she actually did a bit easier, and nothing else.</p>",
            ),
            (
                "paragraph",
                "<p>He put the stand on the kitchen table where she always sat, with the tablet at eye height. He made the text bigger and put the video call button on its own on the home screen, with a photo of the family on it so it was easy to spot. He turned on captions, so the words appeared along the bottom when people spoke. And he wrote three steps in large letters on a card and stuck it on the wall behind the table: <i>1. Tap the family picture. 2. Wait. 3. Look at the little window, not the big one.</i></p>",
            ),
            (
                "quote",
                {
                    "quote": "I didn't know the camera was in that little dot. I thought it was in the middle, like a television.",
                    "attribution": "Dilys, Aberystwyth",
                },
            ),
            ("heading", "The first proper Sunday"),
            (
                "paragraph",
                "<p>That Sunday, at four o'clock, ten small faces appeared on the screen and saw, for the first time in months, Dilys's whole face, with her good cardigan on and her hair done. Several people cried. Her son said, “Mam, you look well,” and she said it was the first time in half a year that anyone had been able to tell.</p>",
            ),
            (
                "paragraph",
                "<p>She now moves the tablet to show people things: the garden, a new cushion, the cat next door on her windowsill. Sometimes, out of habit, she still shows them the ceiling. Nobody minds. Gethin says it's like a family landmark.</p>",
            ),
        ],
    },
    {
        "slug": "the-whiteboard-on-the-fridge",
        "title": "The whiteboard on the fridge",
        "intro": "Five people, three jobs, two schools and one car. The Mensahs were drowning in group messages until they moved the whole week onto a whiteboard and held a ten-minute meeting on Sundays.",
        "purpose": "solve",
        "interests": ["family", "home"],
        "series": None,
        "continues": None,
        "background": [],
        "related": ["a-budget-with-a-fifteen-year-old", "the-lunchbox-rut"],
        "body": [
            (
                "paragraph",
                "<p>The Mensah family in Croydon has two parents with jobs, one teenager with a Saturday job, two younger children, two schools, a football club, a swimming club, a grandmother who needs lifts to the doctor, and one car. For a long time the week was organised by a family group chat with three hundred unread messages and a feeling, every evening, that somebody had been forgotten.</p>",
            ),
            ("paragraph", "<p>Usually it was the swimming kit.</p>"),
            ("heading", "One board, one meeting"),
            (
                "paragraph",
                "<p>Efua, the mum, bought nothing fancy. She used a large whiteboard that had been in the loft since a home-schooling phase, and ruled it into seven columns with tape. Every person got their own colour pen. Anything that involved leaving the house, needing the car or needing a grown-up went on the board.</p>",
            ),
            (
                "paragraph",
                "<p>The important part wasn't the board. It was the meeting. Every Sunday at six, before tea, the whole family stands in the kitchen for ten minutes, no longer, and fills in the week. Who needs the car when. Who's picking up Grandma. Which nights are busy, so tea needs to be quick. What needs packing the night before. Anything that comes up during the week gets written on the board, not in the chat.</p>",
            ),
            (
                "paragraph",
                "<p>Kwesi, the dad, reckons ten minutes on Sunday saves about an hour of arguments by Wednesday.</p>",
            ),
            ("heading", "The rules they kept"),
            (
                "paragraph",
                "<p>A few rules appeared over time. If it isn't on the board, it isn't happening. Everyone, even the eight-year-old, is responsible for writing their own things. Clashes are sorted at the Sunday meeting, not at the front door at quarter past eight. And there is a small box in the corner for “nice things this week”, so the board isn't only chores. Last week it said <i>Grandma's birthday cake, Thursday</i> and <i>Kojo scored (nearly)</i>.</p>",
            ),
            (
                "paragraph",
                "<p>The group chat still exists, but it's now mostly photographs of the dog. Efua says the house feels calmer, not because there is less to do but because everybody can see it. The swimming kit, now written on the board in purple every Tuesday, hasn't been forgotten since February.</p>",
            ),
            (
                "image",
                {
                    "caption": "A family whiteboard on a fridge door, divided into seven days and filled in with different coloured pens.",
                    "alt": "A weekly planner whiteboard with entries in five colours.",
                },
            ),
        ],
    },
    {
        "slug": "when-dad-had-the-fall",
        "title": "When Dad had the fall",
        "intro": "Rachel got the call at work: her dad had fallen at home and was in hospital. The weeks that followed taught her how to ask for help, and how to let him keep his independence.",
        "purpose": "ease",
        "interests": ["family", "home"],
        "series": None,
        "continues": "frank-goes-to-lisbon",
        "background": [],
        "related": ["pencil-marks-on-the-kitchen-doorframe", "the-joint-account-after-margaret"],
        "body": [
            (
                "paragraph",
                "<p>Frank was eighty and fiercely independent, which is a polite way of saying he refused to use the handrail. He slipped on the bathroom floor of his flat in Weston-super-Mare on a Tuesday morning and lay there for two hours until a neighbour heard him. He broke his hip. His daughter Rachel got the call while she was at her desk in Bristol and drove down without remembering the journey.</p>",
            ),
            (
                "paragraph",
                "<p>The operation went well. The difficult part came after, when the hospital began talking about sending him home, and Rachel realised she had no idea what that meant in practice, or what she was supposed to do about it while also holding down a job and raising two teenagers.</p>",
            ),
            ("heading", "Lists, not panic"),
            (
                "paragraph",
                "<p>A nurse on the ward gave her a tip: write three lists. What Dad can do on his own. What he can do with help. What he can't do at the moment. The lists turned a huge worry into a set of smaller ones. Frank could wash his face and make tea. He needed help with his socks and the shopping. He couldn't yet manage the bath or the stairs to the bins.</p>",
            ),
            (
                "paragraph",
                "<p>Before he left hospital, an occupational therapist visited his flat and arranged a raised toilet seat, a perching stool for the kitchen and a rail by the bath. Rachel also asked the council for two things she hadn't known existed: a needs assessment for her dad, to see what care and support he might get, and a carer's assessment for herself, which looks at what help the person doing the caring might need.</p>",
            ),
            (
                "quote",
                {
                    "quote": "I thought asking for help meant I'd failed him. It turned out it was the only way I could keep helping him.",
                    "attribution": "Rachel, Frank's daughter",
                },
            ),
            ("heading", "His pride, and his rules"),
            (
                "paragraph",
                "<p>Frank hated all of it at first. What helped was Rachel asking him, rather than telling him. Did he want a carer in the mornings or the evenings? Would he wear a personal alarm on his wrist or round his neck? He chose the wrist, because he said the pendant made him look like a mayor. He agreed to the handrail on the condition that nobody mentioned it.</p>",
            ),
            ("story_link", "pencil-marks-on-the-kitchen-doorframe"),
            (
                "paragraph",
                "<p>It took months. There were bad days, for both of them. But by the following spring Frank was using a wheelchair for longer distances, walking short ones with a frame, and complaining that his carer, Joy, made better tea than he did. One evening on the phone he mentioned, casually, that he'd always wanted to see Lisbon again.</p>",
            ),
        ],
    },
    {
        "slug": "leo-and-the-marble-run",
        "title": "Leo and the marble run",
        "intro": "Leo, seven, wanted a marble run that cost more than a year's pocket money. His mum drew a chart on the fridge. What followed was twenty-three weeks of patience and one important discovery about bargains.",
        "purpose": "smile",
        "interests": ["family", "financial-wellbeing"],
        "series": None,
        "continues": None,
        "background": [],
        "related": ["a-budget-with-a-fifteen-year-old", "nans-jar-of-two-pound-coins"],
        "body": [
            (
                "paragraph",
                "<p>The marble run was in the window of a toy shop in Shrewsbury. It had twelve levels, a spiral, a lift you turned with a handle and a small bell at the bottom that rang when the marble arrived. Leo, who is seven, stood in front of it for so long that his mum, Sian, had to go into the bakery next door and come back.</p>",
            ),
            (
                "paragraph",
                "<p>It cost sixty pounds. Leo got two pounds a week in pocket money, which he mostly spent on football stickers. Sian didn't say no. She said they'd work out how long it would take.</p>",
            ),
            ("heading", "The chart"),
            (
                "paragraph",
                "<p>She drew a marble run on a big piece of card, with thirty marbles going down it, each one worth two pounds. She stuck it to the fridge. Every Saturday, when Leo got his pocket money, he could decide whether to put it in the jar for the marble run, and if he did, he coloured in a marble. If he spent it on stickers, that was fine too. The chart just wouldn't move.</p>",
            ),
            (
                "paragraph",
                "<p>The first three weeks went well. In week four there was a sticker emergency involving a shiny goalkeeper. Week five was a birthday party with a goody bag that briefly made all other toys seem unnecessary. Leo noticed, by himself, that the chart didn't move those weeks. He didn't like it.</p>",
            ),
            (
                "paragraph",
                "<p>Leo's view, looking back, is that the goalkeeper was worth one marble, because he was a very good goalkeeper.</p>",
            ),
            ("heading", "Week twenty-three"),
            (
                "paragraph",
                "<p>Leo's grandparents were told about the chart and were very strictly instructed not to help. Grandad found a loophole, which was to pay Leo a pound to wash his car, which Sian allowed on the grounds that it was a job. By week twenty, Leo had coloured in nineteen marbles and kept a small pile of car-washing pounds in an egg cup.</p>",
            ),
            (
                "paragraph",
                "<p>Then, in week twenty-three, they went back to the toy shop to check it was still there. It was, with a sign saying it was now forty-five pounds. Leo stood in front of the sign, did some sums on his fingers, and announced that he had enough money, with enough left over for a packet of stickers. Sian says the look on his face was that of a man who has just beaten the system.</p>",
            ),
            (
                "paragraph",
                "<p>The marble run lives on the living room floor. The bell at the bottom rings roughly four hundred times a day. The chart is still on the fridge, fully coloured, and Leo has started a new one, for a telescope. He has drawn it himself. It has a great many marbles.</p>",
            ),
        ],
    },
    # ------------------------------------------------------------------
    # Series: The big pan
    # ------------------------------------------------------------------
    {
        "slug": "cooking-for-thirty-on-little-money",
        "title": "Cooking for thirty on very little money",
        "intro": "Bernadette volunteered to feed the whole street after the community garden opened. She had a small budget, a borrowed pan the size of a bath and one golden rule: cook what scales.",
        "purpose": "solve",
        "interests": ["food"],
        "series": "The big pan",
        "continues": "four-kilos-of-leftover-rice",
        "background": [],
        "related": ["the-friend-who-always-chose-the-restaurant", "the-courgette-summer"],
        "body": [
            (
                "paragraph",
                "<p>The community garden at the end of Bernadette's road in Wolverhampton had taken two years to build, and on the day it opened, somebody said it would be nice to eat together. Bernadette, who had cooked for a care home for twenty years, said she'd do it. Then she went home, sat down and worked out that she had about thirty people to feed and not much more than the price of a couple of takeaways to do it with.</p>",
            ),
            ("heading", "Choose food that scales"),
            (
                "paragraph",
                "<p>Her first rule was to pick dishes that get easier, not harder, when you make more of them. One enormous pot of something is far simpler than thirty of anything individual. She chose a red lentil dal with onions, garlic, ginger, tinned tomatoes and spices, a huge tray of roasted carrots and potatoes with cumin, rice, and flatbreads that a neighbour, Jas, agreed to make in batches.</p>",
            ),
            (
                "paragraph",
                "<p>Dried lentils, rice, onions and carrots are among the cheapest ingredients in any shop, and bigger bags work out cheaper per portion. Spices were cheapest from the world food aisle in large packets. She worked on roughly seventy grams of dry lentils and seventy grams of dry rice per person, which she says gives generous helpings with some to spare, and it still came to well under a pound a head.</p>",
            ),
            (
                "quote",
                {
                    "quote": "A big pot of dal doesn't care whether it's feeding four or forty. It just needs a longer spoon.",
                    "attribution": "Bernadette, Wolverhampton",
                },
            ),
            ("heading", "Borrow the big kit"),
            (
                "paragraph",
                "<p>Her own saucepans were nowhere near big enough. The church hall lent her two huge stockpots, and the scout hut lent a pair of long serving spoons and some insulated boxes. She cooked the dal the night before, because it tastes better the next day, and cooled it quickly in shallow trays before it went in the fridge. On the day, she reheated it until it was steaming hot all the way through.</p>",
            ),
            (
                "paragraph",
                "<p>She asked people to bring their own plate and cutlery, which cut down on waste and on washing up, and she asked a couple of children to be in charge of the water jugs, which they took very seriously.</p>",
            ),
            (
                "paragraph",
                "<p>Thirty-four people came. Everyone had seconds. A man from the flats, who nobody on the street had really spoken to before, stayed to help wash the big pots and told Bernadette about his mother's dal in Gujarat. It was a lovely afternoon. The only problem was that she had made rather a lot of rice.</p>",
            ),
            (
                "image",
                {
                    "caption": "A huge steel stockpot of golden lentil dal on a trestle table in a community garden.",
                    "alt": "A large pot of dal with a ladle, beside stacks of flatbreads.",
                },
            ),
        ],
    },
    {
        "slug": "four-kilos-of-leftover-rice",
        "title": "Four kilos of leftover rice",
        "intro": "After the street meal, Bernadette had a mountain of cooked rice and a head full of food safety rules from her care home days. Here is how she made it safe, and what she made with it.",
        "purpose": "solve",
        "interests": ["food", "home"],
        "series": "The big pan",
        "continues": None,
        "background": ["cooking-for-thirty-on-little-money"],
        "related": ["the-fridge-at-nine-degrees", "the-lunchbox-rut"],
        "body": [
            (
                "paragraph",
                "<p>At half past five, as the last people drifted out of the community garden, Bernadette looked into the rice pan and saw what she estimated was about four kilos of cooked rice, still warm. Her neighbour Jas asked if she was going to take it home for the week. Bernadette said yes, but not the way he was thinking.</p>",
            ),
            ("heading", "Why rice needs care"),
            (
                "paragraph",
                "<p>Cooked rice is one of those foods that's perfectly safe if you handle it properly and can make people ill if you don't. Uncooked rice can contain spores of a bacterium that survive cooking. If cooked rice is left sitting around warm, those spores can grow and produce toxins that reheating won't destroy. The answer isn't to be frightened of leftover rice. It's to cool it quickly and use it soon.</p>",
            ),
            (
                "paragraph",
                "<p>Bernadette did what she'd done for twenty years in the care home kitchen. She spread the rice out thinly on every baking tray she could find, so it cooled fast, and had it in the fridge within an hour or so of the meal ending. UK food safety guidance is to eat leftover rice within a day, and to reheat it only once, until it's steaming hot all the way through. She wrote the date on masking tape on each box.</p>",
            ),
            (
                "paragraph",
                "<p>“Cool it quick, keep it cold, heat it once,” she told Jas. “That's all the rice rules there are.”</p>",
            ),
            ("heading", "Two days of rice"),
            (
                "paragraph",
                "<p>The next day became a rice cook-off. Jas made egg fried rice for his family, which is traditionally made with cold rice for a reason: it doesn't go sticky. Bernadette made rice and pea cakes, bound with a beaten egg and a little cheese and fried in a pan. A neighbour's teenager made rice pudding, with sugar, cinnamon and a tin of evaporated milk, and was so proud of it he brought a bowl round to every house on the road.</p>",
            ),
            (
                "paragraph",
                "<p>Some went into the freezer straight away. Cooked rice freezes well if it's cooled quickly first, and it can be defrosted in the fridge or reheated from frozen, as long as it's piping hot before it's eaten.</p>",
            ),
            (
                "paragraph",
                "<p>Nothing was thrown away. Bernadette now cooks a little less rice for big meals, and she keeps a note pinned inside the cupboard door: seventy grams dry per person if there's bread too, and never trust anyone who says rice is fine after three days.</p>",
            ),
            ("story_link", "the-fridge-at-nine-degrees"),
        ],
    },
    # ------------------------------------------------------------------
    # Standalone: food
    # ------------------------------------------------------------------
    {
        "slug": "the-lunchbox-rut",
        "title": "The lunchbox rut",
        "intro": "Every morning Tom made two packed lunches. Every afternoon one of them came home untouched. A school dinner lady's simple system finally broke the stalemate.",
        "purpose": "solve",
        "interests": ["food", "family"],
        "series": None,
        "continues": None,
        "background": [],
        "related": ["the-whiteboard-on-the-fridge", "the-first-week-of-nursery"],
        "body": [
            (
                "paragraph",
                "<p>Tom has two children, Ruby, nine, and Harry, six, and for a year he made them packed lunches every school morning in his kitchen in Lowestoft. Ruby ate hers. Harry's came home, almost every day, with the sandwich intact, the apple bruised from being bounced about, and only the yoghurt gone. Tom tried ham, then cheese, then jam, then cutting the sandwiches into shapes. Harry ate none of them.</p>",
            ),
            ("heading", "Asking the person who watches them eat"),
            (
                "paragraph",
                "<p>It was a dinner lady at the school, Mrs Patel, who helped, when Tom mentioned it at the gate. She said that the problem often isn't the food. It's that a big sandwich looks like a lot of work to a six-year-old who only has twenty minutes before he can play football. Small things, she said, that can be eaten with one hand, in any order.</p>",
            ),
            (
                "paragraph",
                "<p>She also said that children are much more likely to eat something they chose themselves, even if the choice is small.</p>",
            ),
            ("heading", "The four boxes"),
            (
                "paragraph",
                "<p>Tom made a chart with four columns and stuck it inside a kitchen cupboard. <b>Something filling</b>: a small wrap, a pasta salad, crackers, a cheese scone, a half sandwich. <b>Something fresh</b>: cucumber sticks, grapes cut in half, a satsuma, carrot batons. <b>Something with protein</b>: a hard-boiled egg, cheese cubes, hummus, some chicken. <b>Something else</b>: a yoghurt, a few raisins, a flapjack. Each evening, the children picked one thing from each column for the next day.</p>",
            ),
            (
                "quote",
                {
                    "quote": "Harry chose cucumber. He has never once eaten cucumber at home. He ate the whole lot at school.",
                    "attribution": "Tom, Lowestoft",
                },
            ),
            (
                "paragraph",
                "<p>Tom bought a box with four little compartments, so everything stayed separate, because Harry has strong feelings about foods touching. He started prepping a few things on Sunday evening, like boiling eggs and chopping vegetables into tubs, which took the morning rush down to a few minutes.</p>",
            ),
            ("story_link", "the-whiteboard-on-the-fridge"),
            (
                "paragraph",
                "<p>It isn't perfect. The flapjack always gets eaten first. Some weeks Harry picks the same four things every day. But the lunchbox comes home mostly empty now. Tom has added a fifth column, stuck on with tape, at Ruby's request. It's called <i>surprise</i>, and once a week he puts something in it that nobody chose, which so far has included a tiny pot of custard and a note with a bad joke.</p>",
            ),
        ],
    },
    {
        "slug": "grandmas-soup-without-a-recipe",
        "title": "Grandma's soup, without a recipe",
        "intro": "Lena's grandmother never wrote down her chicken and barley soup. After she died, Lena spent a winter trying to cook it from memory, with help from everyone who had ever eaten it.",
        "purpose": "ease",
        "interests": ["food", "family"],
        "series": None,
        "continues": None,
        "background": [],
        "related": ["the-price-of-bread-in-1974", "saying-goodbye-to-an-old-dog"],
        "body": [
            (
                "paragraph",
                "<p>Lena's grandmother, Halina, made the same soup every Sunday for sixty years, first in Kraków and then in a small kitchen in Ealing. Chicken and barley, thick enough to stand a spoon in, with dill on top. She never used a recipe. When people asked, she said, “A bit of this, until it looks right.” She died in November, at ninety-one. At the funeral tea, three different people said they would miss her soup, and Lena realised that nobody knew how to make it.</p>",
            ),
            ("heading", "Cooking from memory"),
            (
                "paragraph",
                "<p>Lena decided to try, not to get it perfect but because it gave her something to do with her hands on Sunday afternoons that winter. She started with what she could remember seeing: the big enamel pot, a whole chicken leg, pearl barley, carrots, a parsnip, celery, lots of dill. She wrote down everything she did, with amounts, which her grandmother would have found hilarious.</p>",
            ),
            (
                "paragraph",
                "<p>The first attempt was watery. The second was too salty. The third was fine, but it wasn't hers. Something was missing and Lena couldn't say what.</p>",
            ),
            ("heading", "Asking everyone"),
            (
                "paragraph",
                "<p>So she asked. She rang her mum, her uncle, two of Halina's old neighbours and the man from the Polish deli where her grandmother had shopped for forty years. Each person remembered one small thing. Her uncle remembered that she always fried the onions until they were properly brown first. A neighbour remembered a bay leaf and something from a jar. The man at the deli laughed and said, “Allspice. She bought a new jar every month. Nobody uses that much allspice.”</p>",
            ),
            (
                "quote",
                {
                    "quote": "Every person had one piece of her. When we put them together, there she was, in a bowl.",
                    "attribution": "Lena, on the fifth attempt",
                },
            ),
            (
                "paragraph",
                "<p>The fifth attempt, with the browned onions, a bay leaf, a few allspice berries and a squeeze of lemon at the end that her mum suddenly remembered, was right. Lena knew the moment she tasted it. She sat at her kitchen table and cried, and then had a second bowl.</p>",
            ),
            ("heading", "The recipe card"),
            (
                "paragraph",
                "<p>She wrote the final version on a card, with a line at the top: <i>Halina's soup, as remembered by everyone</i>. Underneath each step she wrote the name of the person who remembered it. She has photocopied it for the whole family. Her uncle has made it twice. He says it's very good, but that his is better, which is exactly what Halina would have said.</p>",
            ),
        ],
    },
    {
        "slug": "gerald-the-sourdough-starter",
        "title": "Gerald, the sourdough starter",
        "intro": "Priti's first sourdough loaf could have been used as a doorstop. So could the second. The starter she named Gerald taught her patience, and a lot about her kitchen's temperature.",
        "purpose": "smile",
        "interests": ["food"],
        "series": None,
        "continues": None,
        "background": [],
        "related": ["grandmas-soup-without-a-recipe", "the-fridge-at-nine-degrees"],
        "body": [
            (
                "paragraph",
                "<p>Priti lives in a flat in Sheffield with a cold kitchen and a very optimistic attitude. In January she decided to make sourdough, which needs a starter: a jar of flour and water left to ferment with wild yeasts and bacteria until it bubbles. She mixed it in a jam jar, put it on the side and named it Gerald, because it seemed rude not to.</p>",
            ),
            ("heading", "Gerald's early years"),
            (
                "paragraph",
                "<p>For five days, Gerald did nothing. Priti fed him every day, throwing half away and stirring in fresh flour and water, as the instructions said. He sat there, flat and grey, smelling faintly of wallpaper paste. On day six he produced a single bubble. Priti sent a photo of it to her sister, who replied, “Congratulations?”</p>",
            ),
            (
                "paragraph",
                "<p>She baked her first loaf on day eight anyway. It came out of the oven pale, short and dense enough to hold a door open, which she then used it for. The second loaf was slightly taller and had a large hole in the middle, as if something had tunnelled through it.</p>",
            ),
            (
                "paragraph",
                "<p>“I wasn't baking bread,” she told her sister. “I was making very heavy ornaments.”</p>",
            ),
            ("heading", "What Gerald wanted"),
            (
                "paragraph",
                "<p>A friend who bakes came round, looked at Gerald and asked what the temperature was in the kitchen. Priti didn't know. They found an old thermometer. It said fourteen degrees. Her friend explained that starters work much more slowly in the cold, and that a new one can take a week or two to become lively enough to raise bread. A good sign is that it reliably doubles in size a few hours after feeding, and a spoonful floats in water.</p>",
            ),
            (
                "paragraph",
                "<p>So Gerald moved house, to a shelf in the airing cupboard next to the hot water tank. Priti switched to wholemeal rye flour for his feeds, which her friend said wild yeasts particularly like. Within four days he was rising up the jar like a soufflé. Priti drew a line on the jar with a marker pen each time she fed him, and cheered quietly when he passed it.</p>",
            ),
            ("heading", "Gerald today"),
            (
                "paragraph",
                "<p>The tenth loaf was good. The fifteenth was properly good, with a crackly crust and an open crumb, and she took it to her sister's for Sunday lunch. Gerald now lives in the fridge most of the week, being fed once a week and brought out on Friday evening. When Priti went on holiday, her neighbour looked after him. He came back with a small card from the neighbour, which said he had been no trouble at all.</p>",
            ),
            (
                "image",
                {
                    "caption": "A bubbly sourdough starter in a jam jar with marker lines on the glass and a label reading Gerald.",
                    "alt": "A jar of bubbling sourdough starter labelled with a name.",
                },
            ),
        ],
    },
    {
        "slug": "the-fridge-at-nine-degrees",
        "title": "The fridge at nine degrees",
        "intro": "Yusuf's milk kept going off a day early. A two-pound thermometer showed that his fridge was far warmer than it should be, and fixing it took about ten minutes.",
        "purpose": "solve",
        "interests": ["food", "home"],
        "series": None,
        "continues": None,
        "background": [],
        "related": ["four-kilos-of-leftover-rice", "the-first-flat-and-the-fuse-box"],
        "body": [
            (
                "paragraph",
                "<p>Yusuf shares a house in Nottingham with two other nurses who work shifts, which means the fridge is opened at every hour of the day and night. For months, the milk went sour a day or two before its date, the salad turned to sludge and a pot of hummus once developed what could only be called a personality. He assumed they were just unlucky with shops.</p>",
            ),
            ("heading", "Measure it"),
            (
                "paragraph",
                "<p>His mum, on a visit, put her hand inside the fridge and frowned. The next day a cheap fridge thermometer arrived in the post, the kind that hangs on a shelf. Yusuf put it on the middle shelf and left it overnight, as you should, because fridges take a while to settle after the door has been open.</p>",
            ),
            (
                "paragraph",
                "<p>In the morning it read nine degrees. UK food safety advice is to keep a fridge at five degrees or below, and many people aim for somewhere between one and four. Above five, the bacteria that make food go off, and in some cases make people ill, start to grow much more quickly.</p>",
            ),
            (
                "paragraph",
                "<p>“We'd been running a very slow compost bin,” Yusuf says, “and calling it a fridge.”</p>",
            ),
            ("heading", "What was wrong"),
            (
                "paragraph",
                "<p>There were three problems, all simple. First, the dial inside the fridge had been knocked to its warmest setting, probably by someone pushing in a big pan. Second, the fridge was packed so tightly that cold air couldn't move around, especially near the top. Third, the door seal had a split at the bottom corner, and you could slide a piece of paper through it when the door was shut.</p>",
            ),
            (
                "paragraph",
                "<p>Yusuf turned the dial to a colder setting and checked the thermometer again the next morning, adjusting it until it stayed around three degrees. The housemates agreed to a clear-out, and to letting hot leftovers cool for an hour or so before putting them in, rather than putting a steaming pot in at midnight. He found the right seal for the model online and fitted it in about twenty minutes with a YouTube video and a butter knife.</p>",
            ),
            (
                "paragraph",
                "<p>The milk now lasts until its date. The salad stays crisp. The door of the fridge has a small handwritten sign on it which says <i>3 degrees. Close me properly.</i> The thermometer still lives on the middle shelf, where it gets checked about once a week, usually by whoever's on nights.</p>",
            ),
        ],
    },
    # ------------------------------------------------------------------
    # Series: A year on plot 14
    # ------------------------------------------------------------------
    {
        "slug": "first-spring-on-plot-14",
        "title": "First spring on plot 14",
        "intro": "After four years on a waiting list, Kwame got the keys to an allotment that was mostly brambles. The old hands on the site told him to ignore almost all of it.",
        "purpose": "solve",
        "interests": ["outdoors", "food"],
        "series": "A year on plot 14",
        "continues": "the-courgette-summer",
        "background": [],
        "related": ["margarets-seed-tin", "cooking-for-thirty-on-little-money"],
        "body": [
            (
                "paragraph",
                "<p>Kwame had been on the waiting list for the allotments behind the railway line in Reading for four years, long enough to forget he'd applied. In February he got a letter with a key and a map. Plot 14 was a long strip of land covered in brambles, couch grass and, in one corner, a bath. Nobody knew why there was a bath.</p>",
            ),
            (
                "paragraph",
                "<p>He spent the first weekend trying to clear all of it at once and went home with scratched arms and a sore back, having cleared roughly the area of a kitchen table. On the second weekend, the man on plot 15, a retired bus driver called Desmond, leaned on the fence and said, “You're going to hate this by April if you keep doing it like that.”</p>",
            ),
            ("heading", "One bed at a time"),
            (
                "paragraph",
                "<p>Desmond's advice, which the whole site seemed to agree on, was to clear one small bed properly and grow something in it, rather than half-clear the whole plot and grow nothing. Cover the rest with something that blocks the light, like old cardboard weighed down with bricks, or a sheet of black plastic. Over a few months, many of the weeds underneath weaken and die back, and the ground is far easier to dig later.</p>",
            ),
            (
                "paragraph",
                "<p>So Kwame cleared a bed about two metres by one, dug out every bramble root he could find, and covered the rest of the plot in flattened cardboard boxes from the supermarket, which made it look like a very untidy art installation.</p>",
            ),
            (
                "quote",
                {
                    "quote": "Grow one thing you like, in one bed, this year. The rest of the plot will still be here next year. So will the bath.",
                    "attribution": "Desmond, plot 15",
                },
            ),
            ("heading", "What to grow first"),
            (
                "paragraph",
                "<p>For a first bed in spring, the site's advice was to grow things that are forgiving. Early potatoes, planted in March or April, which also help break up the soil. Broad beans. Onion sets, which are small onions you simply push into the ground. Some salad leaves, sown a short row at a time every couple of weeks, so they don't all come at once. Kwame ignored this last piece of advice, sowed the whole packet in one go, and ate salad every day for three weeks in May.</p>",
            ),
            (
                "paragraph",
                "<p>He also, on Desmond's advice, planted a single courgette plant at the end of the bed. Desmond said one would be plenty. Kwame, thinking one seemed a bit mean, planted three.</p>",
            ),
            (
                "image",
                {
                    "caption": "A long allotment strip covered in flattened cardboard, with one freshly dug bed and an old bath in the corner.",
                    "alt": "An allotment plot mostly covered in cardboard, one small bed dug over.",
                },
            ),
        ],
    },
    {
        "slug": "the-courgette-summer",
        "title": "The courgette summer",
        "intro": "Kwame was warned that one courgette plant would be enough. He planted three. By August the whole allotment site, his office and his mum's church were eating courgettes.",
        "purpose": "smile",
        "interests": ["outdoors", "food"],
        "series": "A year on plot 14",
        "continues": None,
        "background": ["first-spring-on-plot-14"],
        "related": ["four-kilos-of-leftover-rice", "the-ladder-that-went-round-the-street"],
        "body": [
            (
                "paragraph",
                "<p>For most of June, Kwame's three courgette plants just sat there, growing large leaves and doing nothing much. He mentioned to Desmond on the next plot that he was a little disappointed. Desmond said, “Wait,” in a tone Kwame would later recognise as a warning.</p>",
            ),
            (
                "paragraph",
                "<p>In the first week of July there were two courgettes. Kwame photographed them. In the second week there were eleven. By the end of the month he was picking them every other day, and if he missed a day, the ones he'd overlooked turned into marrows the size of a small dog.</p>",
            ),
            ("heading", "Where the courgettes went"),
            (
                "paragraph",
                "<p>He ate courgettes fried, grilled, roasted and grated into pasta sauce. He made courgette fritters, courgette soup and a courgette cake, which was surprisingly good. He left them in a crate at the allotment gate with a sign saying <i>PLEASE TAKE</i>, but everyone else had courgettes too, and the crate only ever got fuller, because people started adding theirs.</p>",
            ),
            (
                "paragraph",
                "<p>He took a bag to the office every Monday. By August, colleagues had started avoiding eye contact when he walked in carrying a bag. His mum took two marrows to church, where they were entered, without his knowledge, in the harvest festival display, and came second to a marrow grown by a man who had been growing marrows for fifty years.</p>",
            ),
            (
                "paragraph",
                "<p>Desmond was unsympathetic. He said he always says one plant, nobody ever listens, and every August he is proved right.</p>",
            ),
            ("heading", "The lesson"),
            (
                "paragraph",
                "<p>There is a practical point in all this. Courgettes are one of the most productive things you can grow, and a single healthy plant can give a household more than it can comfortably eat across a summer. Picking them small, while they're still about the size of a finger or a hand, keeps the plant producing and makes them taste better, and grated courgette freezes well in portions for winter soups.</p>",
            ),
            (
                "paragraph",
                "<p>Kwame's plot now has three beds cleared and the cardboard has done its job on the rest. The bath has been turned into a small pond, with a frog that arrived on its own. Next year, Kwame says, he will grow one courgette plant. Desmond has heard this before and is quietly keeping some spare boxes.</p>",
            ),
            ("story_link", "four-kilos-of-leftover-rice"),
            (
                "image",
                {
                    "caption": "A wooden crate overflowing with courgettes and one enormous marrow at an allotment gate, beside a handwritten sign.",
                    "alt": "A crate full of green courgettes and a giant marrow by a gate.",
                },
            ),
        ],
    },
    # ------------------------------------------------------------------
    # Standalone: outdoors
    # ------------------------------------------------------------------
    {
        "slug": "the-same-loop-on-a-bad-day",
        "title": "The same loop on a bad day",
        "intro": "Femi is an A&E nurse. After the hardest shifts, she walks the same three-mile loop around a reservoir, and has done for six years. She explains why the sameness is the point.",
        "purpose": "ease",
        "interests": ["outdoors"],
        "series": None,
        "continues": None,
        "background": [],
        "related": ["the-envelopes-on-the-hall-table", "the-walk-that-finally-worked"],
        "body": [
            (
                "paragraph",
                "<p>Femi has worked in the emergency department of a hospital in the north-east for eleven years. Some shifts end and she feels fine. Some end and she feels as if she's been carrying a piano up a hill all night. On those days, before she goes home, she drives to a reservoir twenty minutes out of town, parks in the same space by the same broken fence, and walks the same loop.</p>",
            ),
            (
                "paragraph",
                "<p>It's three miles. It takes her just over an hour. She has walked it, by her own rough count, more than four hundred times.</p>",
            ),
            ("heading", "Why the same one"),
            (
                "paragraph",
                "<p>People have asked her why she doesn't try somewhere new. Her answer is that after a bad shift, she has made enough decisions. On the loop, she doesn't have to decide anything. She knows where the path is muddy in winter. She knows which bench has a view and which one has a wasps' nest under it in August. She knows the gate that needs lifting to open. Her feet do the thinking, and her head is left alone.</p>",
            ),
            (
                "quote",
                {
                    "quote": "I don't go there to think about the shift. I go there so I don't have to think about anything for an hour.",
                    "attribution": "Femi, A&E nurse",
                },
            ),
            ("heading", "What she notices"),
            (
                "paragraph",
                "<p>Walking the same route hundreds of times has made her notice small changes she'd never have seen otherwise. The first coltsfoot flowers by the overflow in March. The day the swallows come back, usually in late April. The heron that stands on the same rock most mornings. The colour of the water, which is never the same twice. She has started keeping a small notebook in the car with a line for each walk: the date, the weather and one thing she saw.</p>",
            ),
            (
                "paragraph",
                "<p>The notebook has become something she didn't expect. On a bad day, she can read back and see that there were eighty or ninety other bad days, and that each of them ended with a heron, or a rainbow, or just an hour of walking in the rain. It's a record of getting through.</p>",
            ),
            (
                "paragraph",
                "<p>She doesn't claim a walk fixes anything. She still talks to colleagues, and to a counsellor through work when she needs to. But she says the loop is where she goes to put the piano down. Most days, by the time she gets back to the broken fence, it feels a little lighter.</p>",
            ),
        ],
    },
    {
        "slug": "fog-on-kinder-scout",
        "title": "Fog on Kinder Scout",
        "intro": "Two friends set out on a clear morning in the Peak District. Within an hour, fog had closed in on the plateau and every direction looked the same. What they did next kept them safe.",
        "purpose": "solve",
        "interests": ["outdoors", "travel"],
        "series": None,
        "continues": None,
        "background": [],
        "related": ["the-same-loop-on-a-bad-day", "travelling-with-an-inhaler"],
        "body": [
            (
                "paragraph",
                "<p>Aisha and Beth had walked up onto Kinder Scout from Edale on a bright October morning, warm enough that they left their spare jumpers in the car. Kinder is a wide, high plateau of peat and heather, cut with deep channels called groughs. On a clear day the views run for miles. At about eleven, a grey wall of cloud rolled over the edge, and within ten minutes they could barely see each other at twenty paces.</p>",
            ),
            ("heading", "Stop first"),
            (
                "paragraph",
                "<p>Beth wanted to keep going in what she thought was the right direction. Aisha, who had done a navigation course the year before, made them stop. The instructor on that course had said the most common mistake in fog is to keep walking on a hunch, because in poor visibility people drift in circles without realising, and on a plateau with steep edges that can be dangerous.</p>",
            ),
            (
                "paragraph",
                "<p>They sat down on a rock, put on every layer they had and had a drink and a snack. Then they got out the paper map and compass, and Aisha's phone, which had an offline map with GPS that worked without a signal. The phone showed where they were. The map and compass told them which direction to walk, and the compass kept them walking in it, even when every bit of heather looked the same.</p>",
            ),
            (
                "paragraph",
                "<p>In fog, Aisha says, your sense of direction is a liar. The compass isn't.</p>",
            ),
            ("heading", "If they had needed help"),
            (
                "paragraph",
                "<p>Aisha knew what to do if things got worse. In the UK, if you need rescuing in the hills, you call 999, ask for the police, and then ask for mountain rescue. It helps to be able to give your location as a grid reference, which many mapping apps can show. She had also registered both their phones for the emergency SMS service, which lets you text 999 if a call won't go through, because out on the moors a text can sometimes get through when a call cannot.</p>",
            ),
            (
                "paragraph",
                "<p>They didn't need it. They followed a bearing slowly to the edge path, checking the phone every few minutes, then followed the edge to a well-marked path down into the valley. As they dropped below the cloud, the fog thinned and Edale appeared below them, with sunshine on the fields as if nothing had happened.</p>",
            ),
            (
                "paragraph",
                "<p>In the pub afterwards, Beth bought Aisha a large plate of chips and asked if she could go on the same navigation course. She's booked for the spring. She has also started keeping a spare jumper in her rucksack, whatever the forecast says.</p>",
            ),
            ("story_link", "travelling-with-an-inhaler"),
            (
                "image",
                {
                    "caption": "Two walkers in waterproofs checking a map and compass on a rock as fog closes over a moorland plateau.",
                    "alt": "Two hikers crouched over a map in thick grey fog among heather.",
                },
            ),
        ],
    },
    {
        "slug": "the-bench-with-no-name",
        "title": "The bench with no name",
        "intro": "Every bench on the cliff path at Whitby has a plaque except one. An old man who sits there every morning explained why, and the town's memorial benches took on a different meaning.",
        "purpose": "ease",
        "interests": ["outdoors", "family"],
        "series": None,
        "continues": None,
        "background": [],
        "related": ["margarets-seed-tin", "the-same-loop-on-a-bad-day"],
        "body": [
            (
                "paragraph",
                "<p>Along the cliff path above Whitby, looking out over the North Sea, there are many benches, and almost every one has a small brass plaque. <i>For Jean, who loved this view.</i> <i>Dad's bench. Sit and have a sarnie.</i> <i>Bill and Mavis, 1952 to forever.</i> Walkers read them as they pass. Some people stop and sit on a particular bench because of what it says.</p>",
            ),
            (
                "paragraph",
                "<p>One bench, about halfway along, has no plaque at all. Just two small screw holes where one used to be.</p>",
            ),
            ("heading", "The man on the bench"),
            (
                "paragraph",
                "<p>Most mornings, an old man in a flat cap sits on it with a flask. His name is Harold, and he is eighty-nine. A woman called Tess, who walks her dog along the path, finally asked him about it one morning in spring. Harold said the bench had been put there by his family for his wife, June, twenty years ago. Her name had been on the plaque.</p>",
            ),
            (
                "paragraph",
                "<p>A few years ago the plaque came loose in a winter storm and was lost. The council said it would replace it. Harold thought about it for a while and said no.</p>",
            ),
            (
                "quote",
                {
                    "quote": "Everyone who sits here now sits on it for their own reasons. June would have liked that. She was never one for being the centre of attention.",
                    "attribution": "Harold, Whitby",
                },
            ),
            ("heading", "A bench for anyone"),
            (
                "paragraph",
                "<p>Harold told Tess that he'd noticed, since the plaque went, that more people sat on that bench than before. Walkers who didn't want to sit on someone else's memorial, in case it felt like intruding, seemed comfortable there. Young couples. A man who came every Thursday and cried quietly for a few minutes before walking on. A mum with a baby who needed feeding. He liked watching them, and he liked that it didn't belong to anyone, including June.</p>",
            ),
            (
                "paragraph",
                "<p>Tess says she thinks about the bench often. Grief, she says, tends to want a name on things, and there's nothing wrong with that. Most of the plaques on that path are lovely. But she found something gentle in Harold's way, too: that the memory could be his, and the bench could be everyone's.</p>",
            ),
            (
                "paragraph",
                "<p>She sits on it herself now, some mornings, when Harold isn't there. She doesn't know anyone who is remembered by it, except June, a little, through Harold. The dog lies at her feet and they watch the boats go out of the harbour.</p>",
            ),
        ],
    },
]


# ----------------------------------------------------------------------
# Self-check
# ----------------------------------------------------------------------

#: The living demo's newsletter edition (``syndication/demo/living.py`` sends it): its
#: title and intro, kept with the rest of the demo's copy.
EDITION_TITLE = "Stories from Larkspur Mutual this month"
EDITION_INTRO = "A storm, a payslip and a hamster in a slipper: what readers liked this month."
PURPOSES = ("solve", "ease", "smile")
BLOCK_TYPES = ("paragraph", "heading", "quote", "image", "story_link")

# Words and phrases that would make a story sound like a sales pitch.
_SALES_TERMS = (
    "buy",
    "sign up",
    "today only",
    "limited",
    "discount",
    "offer",
    "free trial",
    "best",
    "#1",
    "award",
    "hurry",
    "don't miss",
    "exclusive",
    "guarantee",
)


def _strip_tags(html: str) -> str:
    out = []
    inside = False
    for ch in html:
        if ch == "<":
            inside = True
            out.append(" ")
        elif ch == ">":
            inside = False
        elif not inside:
            out.append(ch)
    return "".join(out)


def _tags(html: str) -> list[str]:
    tags = []
    pos = 0
    while True:
        start = html.find("<", pos)
        if start == -1:
            return tags
        end = html.find(">", start)
        assert end != -1, f"unclosed tag in {html[:60]!r}"
        tags.append(html[start : end + 1])
        pos = end + 1


def _tag_allowed(tag: str) -> bool:
    if tag in ("<p>", "</p>", "<b>", "</b>", "<i>", "</i>", "</a>"):
        return True
    prefix = '<a href="https://example.org/'
    return tag.startswith(prefix) and tag.endswith('">') and " " not in tag[len(prefix) : -2]


def _block_text(block_type: str, value) -> str:
    if block_type == "paragraph":
        return _strip_tags(value)
    if block_type == "heading":
        return value
    if block_type == "quote":
        return value["quote"] + " " + value["attribution"]
    if block_type == "image":
        return value["caption"]
    return ""


def _word_count(story: dict) -> int:
    return sum(len(_block_text(t, v).split()) for t, v in story["body"])


def _all_text(story: dict) -> list[str]:
    texts = [story["title"], story["intro"]]
    for block_type, value in story["body"]:
        if block_type == "image":
            texts += [value["caption"], value["alt"]]
        elif block_type == "quote":
            texts += [value["quote"], value["attribution"]]
        elif block_type in ("paragraph", "heading"):
            texts.append(_strip_tags(value))
    return texts


def _check() -> dict:
    interest_slugs = [i["slug"] for i in INTERESTS]
    required = {"financial-wellbeing", "home", "pets", "travel", "family", "food"}
    assert required <= set(interest_slugs), "missing required interests"
    assert len(interest_slugs) == len(set(interest_slugs)), "duplicate interest slug"
    assert 6 <= len(INTERESTS) <= 8, "6 to 8 interests"
    for interest in INTERESTS:
        assert interest["name"] and interest["description"], interest["slug"]
        assert not interest["description"].endswith("!"), interest["slug"]

    slugs = [s["slug"] for s in STORIES]
    assert len(STORIES) >= 42, f"only {len(STORIES)} stories"
    assert len(slugs) == len(set(slugs)), "duplicate story slug"
    known = set(slugs)
    by_slug = {s["slug"]: s for s in STORIES}

    stats = {"quote": 0, "image": 0, "story_link": 0}
    purposes = dict.fromkeys(PURPOSES, 0)
    primary = dict.fromkeys(interest_slugs, 0)
    mentions = dict.fromkeys(interest_slugs, 0)
    continue_targets: dict[str, str] = {}
    words = []

    for story in STORIES:
        slug = story["slug"]
        expected_keys = {
            "slug",
            "title",
            "intro",
            "purpose",
            "interests",
            "series",
            "continues",
            "background",
            "related",
            "body",
        }
        assert set(story) == expected_keys, f"{slug}: keys {set(story) ^ expected_keys}"
        assert len(slug) <= 60 and slug == slug.lower(), slug
        assert all(c.isalnum() or c == "-" for c in slug), slug
        assert not slug.startswith("-") and not slug.endswith("-") and "--" not in slug, slug
        assert 0 < len(story["title"]) <= 80, f"{slug}: title length"
        assert story["title"][0].isupper(), f"{slug}: title should start with a capital"
        assert 0 < len(story["intro"]) <= 250, f"{slug}: intro is {len(story['intro'])} chars"
        assert "<" not in story["intro"], f"{slug}: intro must be plain text"
        assert story["purpose"] in PURPOSES, f"{slug}: purpose"
        purposes[story["purpose"]] += 1

        interests = story["interests"]
        assert 1 <= len(interests) <= 3, f"{slug}: 1-3 interests"
        assert len(set(interests)) == len(interests), f"{slug}: duplicate interest"
        for i in interests:
            assert i in primary, f"{slug}: unknown interest {i}"
            mentions[i] += 1
        primary[interests[0]] += 1

        # References.
        refs = []
        if story["continues"] is not None:
            target = story["continues"]
            assert target not in continue_targets, (
                f"{target} continued from both {continue_targets[target]} and {slug}"
            )
            continue_targets[target] = slug
            refs.append(target)
        assert len(story["background"]) <= 2, f"{slug}: too much background"
        assert len(story["related"]) <= 2, f"{slug}: too many related"
        assert len(set(story["background"])) == len(story["background"]), slug
        assert len(set(story["related"])) == len(story["related"]), slug
        refs += story["background"] + story["related"]

        # Body.
        body = story["body"]
        assert 5 <= len(body) <= 12, f"{slug}: {len(body)} blocks"
        seen = set()
        for block_type, value in body:
            assert block_type in BLOCK_TYPES, f"{slug}: block type {block_type}"
            seen.add(block_type)
            if block_type == "paragraph":
                assert value.startswith("<p>") and value.endswith("</p>"), f"{slug}: paragraph html"
                for tag in _tags(value):
                    assert _tag_allowed(tag), f"{slug}: tag {tag}"
                for inline in ("b", "i", "a"):
                    opened = sum(
                        1 for t in _tags(value) if t == f"<{inline}>" or t.startswith(f"<{inline} ")
                    )
                    assert opened == value.count(f"</{inline}>"), f"{slug}: unbalanced <{inline}>"
                assert value.count("<p>") == value.count("</p>"), f"{slug}: unbalanced <p>"
            elif block_type == "heading":
                assert isinstance(value, str) and 0 < len(value) <= 80 and "<" not in value, slug
            elif block_type == "quote":
                assert set(value) == {"quote", "attribution"}, slug
                assert value["quote"] and value["attribution"], slug
            elif block_type == "image":
                assert set(value) == {"caption", "alt"}, slug
                assert value["caption"] and value["alt"], slug
            elif block_type == "story_link":
                refs.append(value)
        assert "heading" in seen, f"{slug}: needs a heading"
        for key in stats:
            stats[key] += key in seen

        for ref in refs:
            assert ref in known, f"{slug}: unknown reference {ref}"
            assert ref != slug, f"{slug}: refers to itself"

        count = _word_count(story)
        assert 300 <= count <= 700, f"{slug}: {count} words"
        words.append(count)

        # Tone.
        for text in _all_text(story):
            low = text.lower()
            for term in _SALES_TERMS:
                assert term not in low, f"{slug}: sales term {term!r} in {text[:80]!r}"

    # No cycles in "continues".
    for story in STORIES:
        seen_chain = {story["slug"]}
        nxt = story["continues"]
        while nxt is not None:
            assert nxt not in seen_chain, f"continues cycle through {nxt}"
            seen_chain.add(nxt)
            nxt = by_slug[nxt]["continues"]

    # Series: chains in list order.
    series: dict[str, list[str]] = {}
    for story in STORIES:
        if story["series"] is not None:
            series.setdefault(story["series"], []).append(story["slug"])
    assert len(series) >= 5, f"only {len(series)} series"
    for name, members in series.items():
        assert 2 <= len(members) <= 4, f"series {name!r} has {len(members)} stories"
        for current, following in zip(members, members[1:]):
            assert by_slug[current]["continues"] == following, (
                f"series {name!r}: {current} should continue into {following}"
            )

    # Balance.
    for purpose, n in purposes.items():
        assert n >= 10, f"only {n} {purpose} stories"
    for interest in interest_slugs:
        assert primary[interest] >= 5 or mentions[interest] >= 6, (
            f"interest {interest}: {primary[interest]} primary, {mentions[interest]} mentions"
        )
    total = len(STORIES)
    assert 0.4 <= stats["quote"] / total <= 0.75, f"quotes in {stats['quote']} stories"
    assert 0.25 <= stats["image"] / total <= 0.45, f"images in {stats['image']} stories"
    assert 0.2 <= stats["story_link"] / total <= 0.4, (
        f"story links in {stats['story_link']} stories"
    )

    # Exclamation marks: none outside quoted dialogue, at most 3 in total.
    bangs = 0
    for story in STORIES:
        for text in _all_text(story):
            bangs += text.count("!")
    for interest in INTERESTS:
        bangs += interest["description"].count("!")
    assert bangs <= 3, f"{bangs} exclamation marks"

    return {
        "interests": len(INTERESTS),
        "stories": total,
        "purposes": purposes,
        "primary_interest": primary,
        "interest_mentions": mentions,
        "series": {name: len(m) for name, m in series.items()},
        "with_quote": stats["quote"],
        "with_image": stats["image"],
        "with_story_link": stats["story_link"],
        "continues_links": len(continue_targets),
        "words_min": min(words),
        "words_max": max(words),
        "words_total": sum(words),
    }


if __name__ == "__main__":
    result = _check()
    for key, value in result.items():
        print(f"{key}: {value}")
    print("All checks passed.")
