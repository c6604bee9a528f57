import { Heading } from '../../../components/account/Heading.tsx';
import { RegisterForm } from '../../../components/account/RegisterForm.tsx';

export default function RegisterPage() {
  return (
    <>
      <Heading messageKey="registerTitle" />
      <RegisterForm />
    </>
  );
}
