"""The demo history's people, places and words (pt-BR, as the demo company speaks)."""

__all__ = [
    "AGENT_CLOSINGS",
    "AGENT_FOLLOW_UPS",
    "CAMPAIGN_OPENERS",
    "CAMPAIGN_VARIANTS",
    "CITIES",
    "CSAT_ANSWERS",
    "CUSTOMER_CLOSINGS",
    "CUSTOMER_FOLLOW_UPS",
    "FIRST_NAMES",
    "LAST_NAMES",
    "NOTES",
    "OPENERS",
    "PLANS",
    "PROBLEMS",
    "RETURNS",
    "SELF_SERVICE",
    "TAGS",
]

FIRST_NAMES = (
    "Maria", "José", "Ana", "João", "Antônio", "Francisca", "Carlos", "Paulo", "Adriana",
    "Lucas", "Juliana", "Marcos", "Luiz", "Patrícia", "Gabriel", "Aline", "Rafael", "Sandra",
    "Daniel", "Camila", "Marcelo", "Bruna", "Felipe", "Larissa", "Rodrigo", "Letícia",
    "Eduardo", "Vanessa", "Gustavo", "Amanda", "Thiago", "Beatriz", "Pedro", "Mariana",
    "Ricardo", "Fernanda", "Leonardo", "Jéssica", "Vinícius", "Renata",
)  # fmt: skip
LAST_NAMES = (
    "Silva", "Santos", "Oliveira", "Souza", "Rodrigues", "Ferreira", "Alves", "Pereira",
    "Lima", "Gomes", "Costa", "Ribeiro", "Martins", "Carvalho", "Almeida", "Lopes", "Soares",
    "Fernandes", "Vieira", "Barbosa", "Rocha", "Dias", "Nascimento", "Andrade", "Moreira",
    "Nunes", "Marques", "Machado", "Mendes", "Freitas",
)  # fmt: skip
# city, area code, weight
CITIES = (
    ("São Paulo", "11", 30), ("Rio de Janeiro", "21", 15), ("Belo Horizonte", "31", 10),
    ("Curitiba", "41", 8), ("Porto Alegre", "51", 7), ("Brasília", "61", 7),
    ("Salvador", "71", 7), ("Recife", "81", 6), ("Fortaleza", "85", 5), ("Campinas", "19", 5),
)  # fmt: skip
PLANS = (("Básico", 45), ("Plus", 35), ("Premium", 20))
TAGS = (
    ("cliente", "#2e7d32"),
    ("lead", "#f9a825"),
    ("vip", "#6a1b9a"),
    ("inadimplente", "#c62828"),
    ("empresa", "#1565c0"),
)

OPENERS = ("Oi", "Olá", "oi, tudo bem?", "Olá, preciso de ajuda", "Oi!", "Alguém pode me ajudar?")
CAMPAIGN_OPENERS = (
    "Vi a promoção do 500 Mega, quero saber mais",
    "Oi, recebi a mensagem da oferta. Como faço para assinar?",
    "Essa promoção vale para o meu endereço?",
    "Quero o plano de 500 Mega",
)
# Per kind of queue (index modulo 2): self-service options, the customers' problems, what the
# agents answer, how it ends.
SELF_SERVICE = (
    (
        ("Internet lenta: dicas rápidas", "Reinicie o roteador (tire da tomada por 30 segundos)"
         " e teste novamente. Se continuar lento, responda com 3 para falar com um atendente."),
        ("Status da rede na minha região", "Não há manutenção programada na sua região."
         " Todos os serviços estão funcionando normalmente."),
    ),
    (
        ("Segunda via do boleto", "A segunda via está disponível em https://exemplo.com.br/boleto"
         " e também foi enviada para o seu e-mail cadastrado."),
        ("Formas de pagamento", "Aceitamos boleto, Pix e cartão de crédito. O Pix é"
         " confirmado na hora."),
    ),
)  # fmt: skip
PROBLEMS = (
    (
        "Minha internet está caindo toda hora",
        "O roteador está com a luz vermelha piscando",
        "Não consigo acessar o aplicativo",
        "A velocidade está muito abaixo do contratado",
        "Estou sem sinal desde ontem à noite",
        "O wi-fi não pega no quarto",
        "Quero mudar a senha do wi-fi",
    ),
    (
        "Preciso da segunda via da fatura",
        "Fui cobrado em duplicidade este mês",
        "Quero mudar a data de vencimento",
        "Paguei o boleto mas consta em aberto",
        "Quero cancelar o plano",
        "Posso parcelar a fatura atrasada?",
        "Quero trocar para o plano Premium",
    ),
)
AGENT_FOLLOW_UPS = (
    (
        "Entendi. Vou verificar a sua conexão aqui, um momento.",
        "Pode reiniciar o roteador e me dizer se voltou?",
        "Identifiquei uma instabilidade no seu equipamento e já reconfigurei remotamente.",
        "Abri uma visita técnica para amanhã entre 8h e 12h.",
        "Pode me confirmar o endereço de instalação?",
        "Fiz um teste de velocidade daqui e está normal agora. Pode testar?",
    ),
    (
        "Entendi. Vou verificar a sua fatura, um momento.",
        "Pode me confirmar o CPF do titular?",
        "Enviei a segunda via para o seu e-mail cadastrado.",
        "Identifiquei a cobrança em duplicidade e já solicitei o estorno.",
        "Pronto, alterei o vencimento para o dia 10 a partir da próxima fatura.",
        "O pagamento já foi identificado, a baixa acontece em até 2 dias úteis.",
    ),
)
CUSTOMER_FOLLOW_UPS = (
    "Ok", "Certo, aguardo", "Um momento", "Pronto", "Ainda não voltou", "Funcionou!",
    "Claro", "Entendi", "Obrigado", "Pode sim", "Mas isso já aconteceu antes",
)  # fmt: skip
AGENT_CLOSINGS = (
    "Posso ajudar em algo mais?",
    "Mais alguma dúvida, {first}?",
    "Qualquer coisa é só chamar!",
)
CUSTOMER_CLOSINGS = ("Não, obrigado!", "Só isso, valeu", "Obrigada!", "Resolvido, obrigado")
NOTES = (
    "Cliente recorrente: já teve o mesmo problema no mês passado.",
    "Verificar com o time técnico se há manutenção na região.",
    "Estorno solicitado ao financeiro.",
    "Cliente VIP: priorizar.",
    "Combinado retorno por telefone.",
)
RETURNS = (
    "Voltou a acontecer o mesmo problema",
    "Oi, continua do mesmo jeito",
    "Ainda não resolveu",
)
CSAT_ANSWERS = ("{n}", "{n}", "{n}", "nota {n}", "{n}/5")
CAMPAIGN_VARIANTS = (
    "Olá, {{first_name}}! Que tal dobrar sua velocidade? O plano 500 Mega sai por R$ 99,90."
    " Responda esta mensagem para saber mais.",
    "Oi, {{first_name}}! Oferta exclusiva: 500 Mega por R$ 99,90 no primeiro ano. Quer saber"
    " mais? É só responder.",
)
